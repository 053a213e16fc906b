//! Supabase keys are JWTs whose payload names a role; a `service_role` key
//! bypasses row-level security. Only the payload's `role` is read, and
//! nothing of the token is ever kept or shown.

use base64::Engine;

/// The `role` claim of a JWT, if `value` is one. The signature is not
/// checked: the question is what the key would do, not whether it is valid.
pub fn role(value: &str) -> Option<String> {
    let mut parts = value.trim().split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("role")?.as_str().map(str::to_string)
}

pub fn is_service_role(value: &str) -> bool {
    role(value).as_deref() == Some("service_role")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b(r#"{"alg":"HS256","typ":"JWT"}"#), b(payload))
    }

    #[test]
    fn reads_the_role_claim_only_from_a_well_formed_token() {
        assert!(is_service_role(&token(
            r#"{"iss":"supabase","role":"service_role"}"#
        )));
        assert!(!is_service_role(&token(r#"{"role":"anon"}"#)));
        assert_eq!(role(&token(r#"{"role":"anon"}"#)).as_deref(), Some("anon"));
        for v in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "eyJhbGciOiJIUzI1NiJ9.sandbox-service.00ff",
            &token("[1]"),
        ] {
            assert!(!is_service_role(v), "{v:?}");
        }
    }
}
