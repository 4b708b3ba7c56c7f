//! AUTH: SASL PLAIN (RFC 4616) and LOGIN decoding, and the table of users
//! with their argon2 hashes. Pure decoding here; the only blocking work
//! (argon2) runs in `spawn_blocking` from [`Users::verify`]. Knows nothing
//! of the session's state or the socket.

use std::collections::HashMap;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::UserConfig;

use super::Error;

/// Why a client's SASL response could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslError {
    /// Not base64, not UTF-8, or not the shape the mechanism wants.
    Malformed,
}

/// Decodes one base64 SASL response; `=` is the empty response (RFC 4954 §4).
pub fn decode_b64(text: &str) -> Result<Vec<u8>, SaslError> {
    let text = text.trim();
    if text == "=" {
        return Ok(Vec::new());
    }
    STANDARD.decode(text).map_err(|_| SaslError::Malformed)
}

/// One base64 field of AUTH LOGIN (user name or password).
pub fn decode_login_field(text: &str) -> Result<String, SaslError> {
    String::from_utf8(decode_b64(text)?).map_err(|_| SaslError::Malformed)
}

/// AUTH PLAIN: `authzid NUL authcid NUL passwd` → (authcid, passwd).
/// An authzid different from the authcid is refused: we do not let one user
/// act for another.
pub fn decode_plain(text: &str) -> Result<(String, String), SaslError> {
    let raw = decode_b64(text)?;
    let mut parts = raw.split(|&b| b == 0);
    let (Some(authz), Some(authc), Some(pass), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    if authc.is_empty() || (!authz.is_empty() && authz != authc) {
        return Err(SaslError::Malformed);
    }
    let user = String::from_utf8(authc.to_vec()).map_err(|_| SaslError::Malformed)?;
    let pass = String::from_utf8(pass.to_vec()).map_err(|_| SaslError::Malformed)?;
    Ok((user, pass))
}

/// The accounts from `users`, checked once at start so a bad hash is an
/// operator error at start-up, not a 535 at 3 a.m.
#[derive(Debug)]
pub struct Users {
    hashes: HashMap<String, String>,
    /// Verified for unknown names so a wrong name costs as long as a wrong
    /// password (no user enumeration by timing).
    dummy: String,
}

impl Users {
    pub fn new(users: &[UserConfig]) -> Result<Users, Error> {
        let mut hashes = HashMap::new();
        for (index, u) in users.iter().enumerate() {
            PasswordHash::new(&u.password_hash).map_err(|e| Error::User {
                index,
                name: u.name.clone(),
                message: e.to_string(),
            })?;
            hashes.insert(u.name.clone(), u.password_hash.clone());
        }
        // The dummy uses the cost of the first real hash when there is one, so
        // both paths take the same time.
        let salt = SaltString::from_b64("c2VuZHdlbGwtZHVtbXk").map_err(|e| Error::User {
            index: 0,
            name: "(dummy)".into(),
            message: e.to_string(),
        })?;
        let params = users
            .first()
            .and_then(|u| PasswordHash::new(&u.password_hash).ok())
            .and_then(|h| argon2::Params::try_from(&h).ok())
            .unwrap_or_default();
        let hasher = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let dummy = hasher
            .hash_password(b"not a password anyone has", &salt)
            .map_err(|e| Error::User {
                index: 0,
                name: "(dummy)".into(),
                message: e.to_string(),
            })?
            .to_string();
        Ok(Users { hashes, dummy })
    }

    /// Checks a name and password; argon2 runs on the blocking pool so a
    /// burst of AUTH does not stall other sessions.
    pub async fn verify(self: &Arc<Self>, user: String, password: String) -> bool {
        let users = Arc::clone(self);
        tokio::task::spawn_blocking(move || users.verify_blocking(&user, &password))
            .await
            .unwrap_or(false)
    }

    fn verify_blocking(&self, user: &str, password: &str) -> bool {
        let (phc, known) = match self.hashes.get(user) {
            Some(h) => (h.as_str(), true),
            None => (self.dummy.as_str(), false),
        };
        let Ok(hash) = PasswordHash::new(phc) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok();
        ok && known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_shapes() {
        let b = |s: &[u8]| STANDARD.encode(s);
        assert_eq!(
            decode_plain(&b(b"\0anna\0pw")),
            Ok(("anna".into(), "pw".into()))
        );
        assert_eq!(
            decode_plain(&b(b"anna\0anna\0pw")),
            Ok(("anna".into(), "pw".into()))
        );
        assert_eq!(
            decode_plain(&b(b"bob\0anna\0pw")),
            Err(SaslError::Malformed)
        );
        assert_eq!(decode_plain(&b(b"\0\0pw")), Err(SaslError::Malformed));
        assert_eq!(
            decode_plain(&b(b"\0anna\0pw\0x")),
            Err(SaslError::Malformed)
        );
        assert_eq!(decode_plain("not base64!"), Err(SaslError::Malformed));
        assert_eq!(decode_plain("="), Err(SaslError::Malformed));
    }

    #[test]
    fn verify_known_and_unknown() {
        let params = argon2::Params::new(256, 1, 1, None).unwrap();
        let a = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0").unwrap();
        let hash = a.hash_password(b"secret", &salt).unwrap().to_string();
        let users = Users::new(&[UserConfig {
            name: "anna".into(),
            password_hash: hash,
            ..UserConfig::default()
        }])
        .unwrap();
        assert!(users.verify_blocking("anna", "secret"));
        assert!(!users.verify_blocking("anna", "Secret"));
        assert!(!users.verify_blocking("bob", "secret"));
        assert!(!users.verify_blocking("bob", "not a password anyone has"));
    }
}
