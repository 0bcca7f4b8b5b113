// Package privilege owns users, roles and privileges: their storage in the
// system bucket (read and written inside the statement's transaction, so
// they replicate like any data), the SCRAM-SHA-256 password verifiers, the
// effective privileges of a user, and what a statement needs (Needs).
//
// Keys, all in the system bucket:
//
//	's' 'u' name                              -> User (JSON)
//	's' 'g' 'd' dbID(u32) grantee             -> Priv (u32)  database privileges
//	's' 'g' 't' dbID(u32) tableID(u32) grantee -> Priv (u32) table privileges
//
// Guarantees:
//   - root always exists (a synthesized record until it is first written),
//     is an admin and cannot be dropped; the built-in role "admin" makes its
//     members admins;
//   - passwords are never stored: a user holds only a SCRAM-SHA-256
//     verifier (RFC 5802/7677: random 16-byte salt, iteration count >= 4096,
//     StoredKey, ServerKey) in PostgreSQL's text form;
//   - grants name objects by id, which is never reused, so a dropped and
//     recreated table does not inherit the grants of the old one;
//   - the creator of a table or database owns it (PrivOwner): the owner
//     may do everything with it and grant privileges on it;
//   - errors carry CADB codes: unknown user/role CADB0022, exists CADB0023,
//     permission denied CADB0021.
//
// Not done here (yet): column privileges, WITH GRANT OPTION, role
// attributes other than admin membership, SASLprep of non-ASCII passwords
// (passwords are used as their UTF-8 bytes, which is what SASLprep yields
// for ASCII), and cleanup of grants of dropped objects (they are inert).
package privilege
