// Package examples embeds the example regimes, so that the binary's demo
// runs without reading the source tree.
package examples

import "embed"

// NATORussia2022 holds nato-russia-2022/: regime.toml, regime.sigs, the
// schemas it names, and the parties' PUBLIC DEMO keys (see its README).
//
//go:embed nato-russia-2022
var NATORussia2022 embed.FS
