package node

// SetTransferLimits sets the entries one pull round fetches and one push
// carries, for tests of catching up in steps, and returns a function that
// restores them.
func SetTransferLimits(pull, push int64) (restore func()) {
	oldPull, oldPush := maxPullEntries, maxPushEntries
	maxPullEntries, maxPushEntries = pull, push
	return func() { maxPullEntries, maxPushEntries = oldPull, oldPush }
}
