package upload

import (
	"bufio"
	"io"
)

// HeaderScanned reads one part's header lines from r, under a
// MaxPartHeaderBytes of limit, and returns how many bytes the parser
// searched for line ends, with the error that ended the header, if any.
func HeaderScanned(r io.Reader, limit int) (int, error) {
	p := &parser{br: bufio.NewReaderSize(r, max(64<<10, limit+1)), lim: &limits{partHeader: limit}}
	budget := limit
	for {
		line, err := p.headerLine(&budget)
		if err != nil {
			return p.headerScanned, err
		}
		if len(line) == 0 {
			return p.headerScanned, nil
		}
	}
}
