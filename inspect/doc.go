// Package inspect implements the inspection workflow of
// docs/spec/inspect.md: the inspection.request, inspection.reply,
// inspection.findings and inspection.report statement bodies, quotas, reply
// and beacon deadlines, the beacon's choice of the site to inspect, and the
// discrepancy report computed from the host's escrow opening and the
// inspectors' findings.
//
// An inspection runs: request (CheckQuota) → reply within the deadline
// (Inspection.Status) → beacon commit and reveal (Beacon.Resolve, with a
// Fallback if a party does not reveal) → selection of a site from the host's
// revealed site lists (Candidates, Select) → the host opens that site
// (escrow.Secret.OpenSite, escrow.VerifySiteOpening) → findings
// (CheckFindings) → report (Compare, Verify), logged by both parties.
//
// Guarantees:
//
//   - Determinism. The package is pure: no I/O, no clock, no randomness,
//     no map iteration order in any result. Times are inputs, taken from
//     statements. Given the same log data, both parties' nodes and an
//     auditor compute the same quota decisions, states, verdicts, site and
//     report. What was logged after the time of a decision never changes it.
//   - One encoding. Every body has exactly one accepted encoding (spec §JSON
//     encoding); parsers reject unknown, duplicate, missing, misordered,
//     null and empty-but-present fields and any non-canonical spelling, and
//     name the field at fault. Encode(Parse(b)) is b without whitespace.
//   - Reports are computed, not typed. Compare derives every discrepancy
//     from the opening and the findings, in a fixed order; Verify recomputes
//     a logged report and accepts only its canonical bytes, so both logs hold
//     byte-identical reports and a third party can check either.
//   - Unbiased choice. The site is chosen from the two-party beacon seed
//     with a fixed label and procedure (spec §Selection), so neither party
//     chooses it, and both compute the same one.
//
// Limits:
//
//   - Inspections find only what inspectors see. Compare compares one
//     site: an item declared at another site of the host is "undeclared"
//     here. Item ids must be unique in findings; an id seen on two objects
//     must be recorded for the second under a distinguishing id.
//   - The package checks what the logs say, not that statements exist: the
//     caller fetches the referenced statements, checks their leaf hashes,
//     and verifies the host's opening against its commitment
//     (escrow.VerifySiteOpening) before Compare.
//   - Under FallbackForfeit a party that reveals second can withhold its
//     reveal and so choose between two seeds; the withholding is recorded,
//     not prevented. FallbackRefused leaves the withholder nothing to gain.
//   - Bodies are limited by the statement size (64 KiB): findings or a
//     report of a site with more than roughly a thousand items may not fit.
//
// Times are compared as instants; a reply or reveal at exactly its deadline
// is on time. Quota years are UTC calendar years.
package inspect
