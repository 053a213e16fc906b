//! Keyed fingerprints: two readable values can be compared without either
//! being shown. HMAC-SHA-256 under a key only the server holds, so a
//! fingerprint says nothing about a value to anyone without the key, and the
//! page only ever shows group letters (A, B, C...) derived from them.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// The HMAC key. Never printed; zeroed on drop.
#[derive(Clone)]
pub struct FingerprintKey(zeroize::Zeroizing<Vec<u8>>);

impl FingerprintKey {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(zeroize::Zeroizing::new(bytes))
    }

    /// A fresh random key: groups are then comparable within one check
    /// only, which is all the CLI needs.
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        Self::new(bytes)
    }

    /// The fingerprint of `value` for `key`: the key name is mixed in so the
    /// same value under two names does not line up.
    pub fn of(&self, key: &str, value: &str) -> Fingerprint {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(key.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        Fingerprint(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FingerprintKey(****)")
    }
}

/// Compared, never shown: there is no `Display` and no `Serialize`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprint(..)")
    }
}

/// The group letter of the `n`th distinct value of a key: A..Z, then AA, AB...
pub fn group_label(n: usize) -> String {
    let letter = |i: usize| char::from(b'A' + (i % 26) as u8);
    if n < 26 {
        letter(n).to_string()
    } else {
        format!("{}{}", letter(n / 26 - 1), letter(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_value_gives_the_same_fingerprint_only_under_the_same_key_and_name() {
        let k = FingerprintKey::new(b"k1".to_vec());
        assert_eq!(k.of("A", "v"), k.of("A", "v"));
        assert_ne!(k.of("A", "v"), k.of("A", "w"));
        assert_ne!(k.of("A", "v"), k.of("B", "v"));
        assert_ne!(
            k.of("A", "v"),
            FingerprintKey::new(b"k2".to_vec()).of("A", "v")
        );
        assert_eq!(format!("{:?}", k.of("A", "v")), "Fingerprint(..)");
        assert_eq!(format!("{k:?}"), "FingerprintKey(****)");
    }

    #[test]
    fn group_labels_run_past_z() {
        assert_eq!(group_label(0), "A");
        assert_eq!(group_label(25), "Z");
        assert_eq!(group_label(26), "AA");
        assert_eq!(group_label(27), "AB");
    }
}
