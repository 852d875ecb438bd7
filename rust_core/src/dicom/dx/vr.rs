//! Value checks per VR (PS3.5 §6.2): every attribute's text is checked and normalised before it
//! goes into the data set, so a bad value fails naming the field and the rule.

use crate::dicom::uid;
use crate::error::{CoreError, CoreResult};

pub(super) fn invalid(field: &str, reason: impl Into<String>) -> CoreError {
    CoreError::InvalidMetadata { field: field.to_owned(), reason: reason.into() }
}

// ---------------------------------------------------------------------------------------------
// VR checks (PS3.5 §6.2). Each returns the value ready to encode.

pub(super) fn no_control(field: &str, v: &str) -> CoreResult<()> {
    if v.chars().any(|c| c.is_control()) {
        return Err(invalid(field, "control characters are not allowed"));
    }
    Ok(())
}

/// SH (max 16) or LO (max 64): one value, no backslash.
pub(super) fn text(field: &str, v: &str, max: usize) -> CoreResult<String> {
    no_control(field, v)?;
    if v.contains('\\') {
        return Err(invalid(field, "a backslash would split the value into several"));
    }
    if v.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters (VR {})", if max == 16 { "SH" } else { "LO" })));
    }
    Ok(v.to_owned())
}

/// PN: up to five `^`-separated components per group, at most 64 characters per group.
pub(super) fn person_name(field: &str, v: &str) -> CoreResult<String> {
    no_control(field, v)?;
    if v.contains('\\') {
        return Err(invalid(field, "a backslash would split the value into several"));
    }
    for group in v.split('=') {
        if group.chars().count() > 64 {
            return Err(invalid(field, "at most 64 characters per component group (VR PN)"));
        }
        if group.split('^').count() > 5 {
            return Err(invalid(field, "at most 5 ^-separated components (VR PN)"));
        }
    }
    if v.split('=').count() > 3 {
        return Err(invalid(field, "at most 3 =-separated component groups (VR PN)"));
    }
    Ok(v.to_owned())
}

/// CS: upper-case letters, digits, space and underscore, at most 16 characters.
pub(super) fn code_string(field: &str, v: &str) -> CoreResult<String> {
    if v.len() > 16 {
        return Err(invalid(field, format!("{v:?}: at most 16 characters (VR CS)")));
    }
    if !v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ' || b == b'_') {
        return Err(invalid(field, format!("{v:?}: only A-Z, 0-9, space and _ are allowed (VR CS)")));
    }
    Ok(v.to_owned())
}

pub(super) fn one_of(field: &str, v: &str, allowed: &[&str]) -> CoreResult<String> {
    if allowed.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(invalid(field, format!("{v:?} is not one of {allowed:?}")))
    }
}

pub(super) fn digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// DA: `YYYYMMDD` with a real month and day, or empty.
pub(super) fn date(field: &str, v: &str) -> CoreResult<String> {
    if v.is_empty() {
        return Ok(String::new());
    }
    let ok = v.len() == 8 && digits(v) && {
        let y: u32 = v[0..4].parse().unwrap();
        let m: u32 = v[4..6].parse().unwrap();
        let d: u32 = v[6..8].parse().unwrap();
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        (1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]
    };
    if ok {
        Ok(v.to_owned())
    } else {
        Err(invalid(field, format!("{v:?} is not a DICOM date YYYYMMDD (VR DA)")))
    }
}

/// TM: `HH[MM[SS[.F{1,6}]]]`, or empty.
pub(super) fn time(field: &str, v: &str) -> CoreResult<String> {
    if v.is_empty() {
        return Ok(String::new());
    }
    let (main, frac) = match v.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (v, None),
    };
    let ranges = [23u32, 59, 60];
    let ok = digits(main)
        && matches!(main.len(), 2 | 4 | 6)
        && main
            .as_bytes()
            .chunks(2)
            .zip(ranges)
            .all(|(p, max)| std::str::from_utf8(p).unwrap().parse::<u32>().unwrap() <= max)
        && match frac {
            None => true,
            Some(f) => main.len() == 6 && (1..=6).contains(&f.len()) && digits(f),
        };
    if ok {
        Ok(v.to_owned())
    } else {
        Err(invalid(field, format!("{v:?} is not a DICOM time HHMMSS[.FFFFFF] (VR TM)")))
    }
}

/// DT: `YYYYMMDDHHMMSS[.F{1,6}][&ZZXX]` prefixes (at least the year), or empty.
pub(super) fn datetime(field: &str, v: &str) -> CoreResult<String> {
    if v.is_empty() {
        return Ok(String::new());
    }
    let bad = || invalid(field, format!("{v:?} is not a DICOM date-time YYYYMMDDHHMMSS[.FFFFFF][&ZZXX] (VR DT)"));
    let (body, zone) = match v.find(['+', '-']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    if let Some(z) = zone {
        if z.len() != 4 || !digits(z) {
            return Err(bad());
        }
    }
    let (main, frac) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if !digits(main) || !matches!(main.len(), 4 | 6 | 8 | 10 | 12 | 14) {
        return Err(bad());
    }
    if main.len() >= 8 {
        date(field, &main[..8]).map_err(|_| bad())?;
    }
    if main.len() > 8 {
        time(field, &main[8..]).map_err(|_| bad())?;
    }
    if let Some(f) = frac {
        if main.len() != 14 || !(1..=6).contains(&f.len()) || !digits(f) {
            return Err(bad());
        }
    }
    Ok(v.to_owned())
}

/// AS: `nnnD`, `nnnW`, `nnnM` or `nnnY`, or empty.
pub(super) fn age(field: &str, v: &str) -> CoreResult<String> {
    let ok = v.is_empty() || (v.len() == 4 && digits(&v[..3]) && matches!(v.as_bytes()[3], b'D' | b'W' | b'M' | b'Y'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(invalid(field, format!("{v:?} is not a DICOM age nnnD/W/M/Y, e.g. \"056Y\" (VR AS)")))
    }
}

/// DS: a finite number in at most 16 characters (shortest round-trip form, else fewer digits).
pub(super) fn decimal(field: &str, v: f64) -> CoreResult<String> {
    if !v.is_finite() {
        return Err(invalid(field, format!("{v} is not a finite number (VR DS)")));
    }
    let plain = format!("{v}");
    if plain.len() <= 16 {
        return Ok(plain);
    }
    (0..=14)
        .rev()
        .map(|p| format!("{v:.p$e}"))
        .find(|s| s.len() <= 16)
        .ok_or_else(|| invalid(field, format!("{v} does not fit in 16 characters (VR DS)")))
}

/// IS: an integer in the signed 32-bit range.
pub(super) fn integer(field: &str, v: i64) -> CoreResult<String> {
    if i32::try_from(v).is_err() {
        return Err(invalid(field, format!("{v} is outside the 32-bit range of VR IS")));
    }
    Ok(v.to_string())
}

pub(super) fn rounded(field: &str, v: f64) -> CoreResult<String> {
    if !v.is_finite() {
        return Err(invalid(field, format!("{v} is not a finite number")));
    }
    integer(field, v.round() as i64)
}

pub(super) fn uid_value(field: &str, v: &str) -> CoreResult<String> {
    uid::validate(v).map_err(|e| invalid(field, e.to_string()))?;
    Ok(v.to_owned())
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ds_fits_16_characters() {
        assert_eq!(decimal("f", 0.139).unwrap(), "0.139");
        assert_eq!(decimal("f", 8192.0).unwrap(), "8192");
        let s = decimal("f", 1.0 / 3.0).unwrap();
        assert!(s.len() <= 16, "{s}");
        assert!((s.parse::<f64>().unwrap() - 1.0 / 3.0).abs() < 1e-10);
        let s = decimal("f", 1.234_567_890_123e-9).unwrap();
        assert!(s.len() <= 16 && s.contains('e'), "{s}");
        assert!(decimal("f", f64::NAN).is_err());
    }

    #[test]
    fn value_checks() {
        assert!(date("d", "20240229").is_ok());
        assert!(date("d", "20230229").is_err());
        assert!(date("d", "2024-11-25").is_err());
        assert!(time("t", "201211").is_ok());
        assert!(time("t", "201211.123456").is_ok());
        assert!(time("t", "20:12:11").is_err());
        assert!(time("t", "250000").is_err());
        assert!(datetime("t", "20240101120000.5+0100").is_ok());
        assert!(datetime("t", "2024-01-01").is_err());
        assert!(age("a", "056Y").is_ok());
        assert!(age("a", "56").is_err());
        assert!(code_string("c", "FOR PRESENTATION").is_ok());
        assert!(code_string("c", "chest").is_err());
        assert!(text("s", &"x".repeat(17), 16).is_err());
        assert!(person_name("p", "Müller^Hans").is_ok());
        assert!(person_name("p", "a^b^c^d^e^f").is_err());
    }
}
