//! HTML that the server rendered (`views`) travels to the browser once: in
//! the page. A resource's value is also serialised into the page for
//! hydration, which would send every fragment a second time as a JSON
//! string (the history page's charts and table twice). Hydration keeps the
//! DOM the server sent (`inner_html` is not set again when hydrating), so
//! the copy for hydration can be empty; a fragment fetched later in the
//! browser (a filter changed, the live view saw a change) is built from the
//! server function's response and carries its HTML as usual.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fragment(pub String);

impl Serialize for Fragment {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Fragment {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Fragment::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hydration_copy_is_empty() {
        let f = Fragment("<svg>…</svg>".into());
        let sent = serde_json::to_string(&(f, 7)).unwrap();
        assert_eq!(sent, "[null,7]");
        let (back, n): (Fragment, i32) = serde_json::from_str(&sent).unwrap();
        assert_eq!((back, n), (Fragment::default(), 7));
    }
}
