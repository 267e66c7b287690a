// Package link is the security and failure tooling of the peer transport:
// node identities, pinned mutual TLS, and an HTTP client that fails over
// between a peer's endpoints and retries what is worth retrying.
//
// # Guarantees
//
//   - Trust is a pin, not a certificate authority. A node's identity is an
//     Ed25519 key; its self-signed certificate only carries the key into
//     TLS. A connection is accepted only if the peer presents exactly one
//     certificate whose key is Ed25519 and equal to a pinned key: for a
//     server, any pin in its [PeerSet]; for a client, the one peer it
//     dials. The check runs in tls.Config.VerifyConnection, so an unknown
//     key is refused at the handshake and no request is ever sent to an
//     unknown server or read from an unknown client.
//     TLS proves that the peer holds the private key of the certificate it
//     presented.
//   - Only TLS 1.3 is spoken, on both sides. Session tickets are disabled on
//     the server, so every connection is a full handshake that proves
//     possession of the pinned key afresh.
//   - Expiry, issuer, name and key usage of certificates are deliberately
//     not checked: the pin is the trust. A pin is replaced by amending the
//     regime, not by letting a certificate lapse, and a node must not be
//     cut off because a clock or a validity date was wrong. Host names in
//     endpoint URLs only select where to connect; they confer no trust.
//   - A [PeerSet] can be replaced at run time (a regime amendment adds a
//     party or rotates a key); the new set applies to every handshake that
//     starts afterwards.
//   - [Client] tries a peer's endpoints in order starting from the last one
//     that answered, retries transient failures (refused or reset
//     connections, timeouts, 408, 429, 5xx other than 501/505) a bounded
//     number of times with exponential backoff, jitter and Retry-After, and
//     never waits past its context. Permanent failures are not retried:
//     any other status (a 4xx such as 400, a 3xx) or an over-long response
//     ([ErrResponseTooLarge]) ends the call at once, and a TLS failure that
//     no retry can fix (the endpoint's key is not the pin:
//     [ErrPinMismatch]; the peer refused our key or our TLS version:
//     [ErrRejected]) rules that endpoint out for the rest of the call.
//     Every attempt has a timeout, and response bodies a size limit.
//
// # Limits
//
//   - Replacing a PeerSet does not close connections that are already
//     open: a removed key keeps any connection it established until that
//     connection ends. Handlers that must honour removals at once check
//     [PeerSet.Contains] on the pin from [PeerFromRequest].
//   - [PeerFromRequest] is meaningful only on a server whose TLS
//     configuration came from [ServerConfig]; it reports the key that was
//     verified at the handshake and nothing else.
//   - The only degenerate key refused is the all-zero one (the zero [Pin]).
//     A party that pins another weak or small-order key weakens only the
//     authentication of its own node; regime validation should refuse it.
//   - Client retries every request it is given, including POSTs, so it must
//     be used for idempotent requests only (the peer interface is designed
//     so: tlog-mirror submissions and tile reads can be repeated).
//   - The client speaks HTTP/1.1. It does not follow redirects.
//
// Package link/faultproxy provides an in-process TCP proxy that injects
// network faults for tests.
package link
