package filter

// A Checkpoint is what an exchange held at one moment: its before-headers
// hooks, its Key values, and its user and session id annotations. A filter
// that lets an app try a request and may then take the attempt back (a
// mux's cascade, where a mounted app passes the request on) takes a
// checkpoint before the attempt and rolls back to it after.
type Checkpoint struct {
	before          int
	values          int
	user, sessionID string
}

// Checkpoint returns the state to roll back to.
func (x *Exchange) Checkpoint() Checkpoint {
	return Checkpoint{before: len(x.before), values: len(x.values), user: x.user, sessionID: x.sessionID}
}

// Rollback undoes what was added to x since c: the before-headers hooks
// registered since (a session filter inside the attempt must not commit a
// cookie for another app's response), the Key values added since, and the
// user and session id annotations. Finish hooks stay, so the attempt's
// clean-up (temporary files, slots) still runs when the response is
// finished; so do values changed in place and context values. Rollback has
// no effect on hooks and values after the headers were sent.
func (x *Exchange) Rollback(c Checkpoint) {
	if x.headersSent || x.committing {
		return
	}
	if c.before <= len(x.before) {
		clear(x.before[c.before:])
		x.before = x.before[:c.before]
	}
	if c.values <= len(x.values) {
		clear(x.values[c.values:])
		x.values = x.values[:c.values]
	}
	x.user, x.sessionID = c.user, c.sessionID
}
