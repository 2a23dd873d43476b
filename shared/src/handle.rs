//! Rules for what people choose: usernames, e-mail addresses, passwords, display names.
//!
//! Each is a newtype with a fallible constructor, so a value that exists is valid.

use std::fmt;

/// Why a chosen value was refused; the text is shown to the user as-is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error("username must be 1 to {MAX_USERNAME_LEN} characters of letters, numbers and underscores")]
    UsernameFormat,
    #[error("username is reserved")]
    UsernameReserved,
    #[error("email is not a valid address")]
    Email,
    #[error("password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters")]
    PasswordLength,
    #[error("display name must be at most {MAX_DISPLAY_NAME_LEN} characters")]
    DisplayNameLength,
}

/// Longest local username, as in Mastodon.
pub const MAX_USERNAME_LEN: usize = 30;
/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest accepted password (bcrypt's historical limit, kept for client compatibility).
pub const MAX_PASSWORD_LEN: usize = 72;
/// Longest display name, as in Mastodon.
pub const MAX_DISPLAY_NAME_LEN: usize = 30;

const RESERVED: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "support",
    "help",
    "moderator",
    "mod",
    "staff",
    "system",
    "starling",
    "api",
    "oauth",
    "settings",
    "about",
    "null",
    "undefined",
    "webmaster",
    "postmaster",
    "hostmaster",
    "abuse",
    "security",
    "noreply",
    "no_reply",
    "www",
    "mail",
    "instance",
];

/// A local account's username: ASCII letters, digits and underscores, case preserved but
/// unique case-insensitively.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Accepts a username a new local account may take.
    pub fn parse(raw: &str) -> Result<Self, HandleError> {
        let name = Self::parse_existing(raw)?;
        if RESERVED.contains(&name.canonical().as_str()) {
            return Err(HandleError::UsernameReserved);
        }
        Ok(name)
    }

    /// Accepts any well-formed username, reserved ones included: for look-ups.
    pub fn parse_existing(raw: &str) -> Result<Self, HandleError> {
        let ok = !raw.is_empty() && raw.len() <= MAX_USERNAME_LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok { Ok(Username(raw.to_owned())) } else { Err(HandleError::UsernameFormat) }
    }

    /// The username as chosen.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form under which uniqueness is enforced.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({})", self.0)
    }
}

/// An e-mail address in a deliberately simple shape: `local@domain.tld`, no spaces, ≤ 254 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Accepts a plausible address; the canonical form is lowercase.
    pub fn parse(raw: &str) -> Result<Self, HandleError> {
        let raw = raw.trim();
        let (local, domain) = raw.rsplit_once('@').ok_or(HandleError::Email)?;
        let ok = raw.len() <= 254
            && !local.is_empty()
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        if ok { Ok(Email(raw.to_lowercase())) } else { Err(HandleError::Email) }
    }

    /// The address, lowercased.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(..)")
    }
}

/// A password as typed: checked for length only, never printed.
pub struct Password(String);

impl Password {
    /// Accepts a password of acceptable length (counted in characters).
    pub fn parse(raw: &str) -> Result<Self, HandleError> {
        let n = raw.chars().count();
        if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&n) { Ok(Password(raw.to_owned())) } else { Err(HandleError::PasswordLength) }
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A display name: any text up to the limit, trimmed, control characters removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Accepts a display name.
    pub fn parse(raw: &str) -> Result<Self, HandleError> {
        let cleaned: String = raw.trim().chars().filter(|c| !c.is_control()).collect();
        if cleaned.chars().count() <= MAX_DISPLAY_NAME_LEN { Ok(DisplayName(cleaned)) } else { Err(HandleError::DisplayNameLength) }
    }

    /// The cleaned name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn usernames_are_letters_digits_and_underscores() {
        assert!(Username::parse("Alice_99").is_ok());
        for bad in ["", "al ice", "alice!", "élodie", "a.b", &"x".repeat(31)] {
            assert_eq!(Username::parse(bad), Err(HandleError::UsernameFormat), "{bad}");
        }
    }

    #[test]
    fn reserved_usernames_are_refused_whatever_their_case() {
        assert_eq!(Username::parse("Admin"), Err(HandleError::UsernameReserved));
        assert!(Username::parse_existing("admin").is_ok());
    }

    #[test]
    fn usernames_are_unique_case_insensitively() {
        assert_eq!(Username::parse("AlIcE").unwrap().canonical(), "alice");
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert_eq!(Email::parse(" Bob@Example.ORG ").unwrap().as_str(), "bob@example.org");
        for bad in ["bob", "bob@localhost", "@x.org", "bob@.org", "b ob@x.org", "a@b@c.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_have_length_bounds_and_never_print() {
        assert!(Password::parse("short").is_err());
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(..)");
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ann \n").unwrap().as_str(), "Ann");
        assert!(DisplayName::parse(&"x".repeat(31)).is_err());
    }
}
