// Package auth authenticates the clients of a node's front-ends: it
// decides whether a connection is trusted (no root password yet and a
// loopback client, or --insecure), runs the server side of SCRAM-SHA-256
// for pgwire (RFC 5802/7677, no channel binding) and checks HTTP Basic
// credentials against the users' SCRAM verifiers (package privilege).
//
// Guarantees:
//   - unknown users, roles and users without a password fail exactly like
//     a wrong password (same error, a deterministic fake salt, the same
//     PBKDF2 cost), so failures do not reveal which users exist;
//   - proofs and keys are compared in constant time (crypto/hmac.Equal);
//   - failed logins are slowed per (source host, user): the n-th
//     consecutive failure waits FailureDelay·2^(n-1) (capped) before its
//     answer and before the next attempt of the same pair is checked; the
//     wait holds only that request's goroutine, never a lock, so other
//     clients are not blocked;
//   - at most GOMAXPROCS/2 (at least 1) HTTP password checks derive keys
//     at once, so a flood of guesses leaves cores to queries; SCRAM puts
//     the key derivation on the client and costs the server only HMACs;
//   - verified HTTP credentials are cached by SHA-256(user, password) for
//     CacheTTL (bounded to CacheSize entries), so a request does not pay
//     the PBKDF2 cost each time; Invalidate (called when this node changes
//     users) drops them;
//   - once root has a password it keeps one (ALTER USER cannot empty it),
//     so "root has a password" is latched; before that it is re-read at
//     most every RootRecheck, and when it cannot be read (no leader for the
//     system partition, e.g. on a minority node) the last state read
//     stands, so a trusted loopback client can still reach /cluster/status.
//
// Passwords and proofs are never logged.
//
// Not done here (yet): client certificates, session tokens (POST /login),
// SASLprep of non-ASCII passwords.
package auth
