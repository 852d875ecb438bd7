//! DICOM UIDs by PS3.5 §9: at most 64 characters, components of digits separated by dots,
//! no empty component and no leading zero in a multi-digit component.
//!
//! The default root is `2.25`, the arc PS3.5 §B.2 reserves for UIDs derived from a UUID: the
//! UID is `2.25.` followed by the UUID's 128-bit value in decimal, so it is unique without any
//! registration. With an organisation root, the suffix is the same random 128-bit value reduced
//! so that root + suffix still fits in 64 characters.

use crate::error::{CoreError, CoreResult};

pub const MAX_UID_LEN: usize = 64;
pub const UUID_ROOT: &str = "2.25";

/// Checks a UID (or a UID root) against PS3.5 §9.
pub fn validate(uid: &str) -> CoreResult<()> {
    let fail = |rule: &'static str| Err(CoreError::InvalidUid { uid: uid.to_owned(), rule });
    if uid.is_empty() {
        return fail("must not be empty");
    }
    if uid.len() > MAX_UID_LEN {
        return fail("must be at most 64 characters");
    }
    for component in uid.split('.') {
        if component.is_empty() {
            return fail("components must not be empty");
        }
        if !component.bytes().all(|b| b.is_ascii_digit()) {
            return fail("only digits and dots are allowed");
        }
        if component.len() > 1 && component.starts_with('0') {
            return fail("a multi-digit component must not start with 0");
        }
    }
    Ok(())
}

/// A fresh UID under `root` from a random (version 4) UUID.
pub fn generate(root: &str) -> CoreResult<String> {
    generate_from(root, uuid::Uuid::new_v4().as_u128())
}

/// Deterministic core of [`generate`]: the UID for a given 128-bit value.
pub fn generate_from(root: &str, value: u128) -> CoreResult<String> {
    validate(root)?;
    if root == UUID_ROOT {
        return Ok(format!("{UUID_ROOT}.{value}"));
    }
    // root + "." + digits must fit; keep as many low-order decimal digits as there is room for.
    let room = MAX_UID_LEN.saturating_sub(root.len() + 1);
    if room < 10 {
        return Err(CoreError::InvalidUid {
            uid: root.to_owned(),
            rule: "root leaves fewer than 10 characters for a unique suffix",
        });
    }
    let digits = value.to_string();
    let tail = &digits[digits.len().saturating_sub(room)..];
    // A leading zero is not allowed; dropping them keeps the value unique within its length.
    let tail = tail.trim_start_matches('0');
    let tail = if tail.is_empty() { "0" } else { tail };
    Ok(format!("{root}.{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_root_is_valid_and_fits() {
        for _ in 0..1000 {
            let uid = generate(UUID_ROOT).unwrap();
            assert!(uid.len() <= MAX_UID_LEN, "{uid}");
            validate(&uid).unwrap();
        }
        // the largest 128-bit value still fits: 5 + 39 digits
        let max = generate_from(UUID_ROOT, u128::MAX).unwrap();
        assert_eq!(max.len(), 44);
    }

    #[test]
    fn long_roots_are_shortened_not_broken() {
        let root = "1.2.826.0.1.3680043.10.543.7.123456789.987654321";
        let uid = generate_from(root, u128::MAX).unwrap();
        assert!(uid.len() <= MAX_UID_LEN);
        validate(&uid).unwrap();
        let uid = generate_from(root, 1000).unwrap();
        assert!(uid.ends_with(".1000"));
    }

    #[test]
    fn rejects_bad_uids() {
        for bad in ["", "1..2", "1.02", "1.a", ".1", "1.", &"1.".repeat(40)] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        assert!(generate_from("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25", 1).is_err());
    }

    #[test]
    fn zero_component_is_fine() {
        validate("1.2.0.3").unwrap();
    }
}
