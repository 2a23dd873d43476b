//! Scheduled statuses (`/api/v1/scheduled_statuses`, `scheduled_at` on status creation) and
//! the ISO 8601 timestamps clients send for them.

use serde::{Deserialize, Serialize};

use super::{MediaAttachment, Visibility};
use crate::id::Id;

/// A status that will be published at a future date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledStatus {
    /// The scheduled status's id (not the id the status will have).
    pub id: Id,
    /// When it will be published.
    pub scheduled_at: String,
    /// What it was scheduled with, to be posted with.
    pub params: ScheduledStatusParams,
    /// The attachments it will carry.
    pub media_attachments: Vec<MediaAttachment>,
}

/// The parameters of a [`ScheduledStatus`] (Mastodon's field types: `in_reply_to_id` and
/// `application_id` are integers there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledStatusParams {
    /// The text.
    pub text: String,
    /// The poll to attach.
    pub poll: Option<ScheduledPoll>,
    /// Attachment ids; `null` for none.
    pub media_ids: Option<Vec<String>>,
    /// Sensitive flag, as given.
    pub sensitive: Option<bool>,
    /// Content warning, as given.
    pub spoiler_text: Option<String>,
    /// The visibility it will have.
    pub visibility: Visibility,
    /// The status it will reply to.
    pub in_reply_to_id: Option<u64>,
    /// Its language, as given.
    pub language: Option<String>,
    /// The `Idempotency-Key` it was scheduled with.
    pub idempotency: Option<String>,
    /// The application that scheduled it (historical; Starling: its id as a number).
    pub application_id: u64,
    /// Historical; always `false`.
    pub with_rate_limit: bool,
    /// Always `null`: a status is scheduled once.
    pub scheduled_at: Option<String>,
}

/// The poll of a [`ScheduledStatusParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledPoll {
    /// The options.
    pub options: Vec<String>,
    /// Seconds the poll lasts from publication.
    pub expires_in: u64,
    /// Whether several options may be chosen.
    pub multiple: bool,
    /// Whether totals are hidden until the end.
    pub hide_totals: bool,
}

/// Milliseconds since the epoch of an ISO 8601 date-time as clients send `scheduled_at`:
/// `YYYY-MM-DD`, then `T` (or a space) and `HH:MM`, optional `:SS` and fraction, then `Z`, an
/// offset (`±HH:MM`, `±HHMM`, `±HH`) or nothing (UTC). A date alone is its midnight, UTC. `None`
/// for anything else, and for dates before 1970.
pub fn parse_timestamp(raw: &str) -> Option<u64> {
    let s = raw.trim().as_bytes();
    let num = |b: &[u8]| -> Option<i64> {
        if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(b).ok()?.parse().ok()
    };
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    let rest = &s[10..];
    if !rest.is_empty() {
        if !matches!(rest[0], b'T' | b't' | b' ') || rest.len() < 6 || rest[3] != b':' {
            return None;
        }
        let (hour, minute) = (num(&rest[1..3])?, num(&rest[4..6])?);
        let mut at = 6;
        let mut second = 0;
        let mut millis = 0;
        if rest.get(at) == Some(&b':') {
            second = num(rest.get(at + 1..at + 3)?)?;
            at += 3;
            if matches!(rest.get(at), Some(b'.' | b',')) {
                let digits = rest[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                let fraction = &rest[at + 1..at + 1 + digits];
                let mut three = [b'0'; 3];
                for (slot, digit) in three.iter_mut().zip(fraction) {
                    *slot = *digit;
                }
                millis = num(&three)?;
                at += 1 + digits;
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let offset_minutes = match &rest[at..] {
            [] | [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), zone @ ..] => {
                let (h, m) = match zone {
                    [h1, h2] => (num(&[*h1, *h2])?, 0),
                    [h1, h2, m1, m2] => (num(&[*h1, *h2])?, num(&[*m1, *m2])?),
                    [h1, h2, b':', m1, m2] => (num(&[*h1, *h2])?, num(&[*m1, *m2])?),
                    _ => return None,
                };
                if h > 23 || m > 59 {
                    return None;
                }
                if *sign == b'+' { h * 60 + m } else { -(h * 60 + m) }
            }
            _ => return None,
        };
        ms += ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis;
    }
    u64::try_from(ms).ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days-from-civil: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::wire::timestamp;

    #[test]
    fn iso_8601_date_times_parse_in_the_shapes_clients_send() {
        let at = 1_709_251_199_000;
        for raw in [
            "2024-02-29T23:59:59Z",
            "2024-02-29T23:59:59+00:00",
            "2024-02-29T23:59:59.000Z",
            "2024-02-29 23:59:59",
            "2024-03-01T01:59:59+02:00",
            "2024-03-01T01:59:59+0200",
            "2024-03-01T00:59:59+01",
            "2024-02-29T18:59:59-05:00",
        ] {
            assert_eq!(parse_timestamp(raw), Some(at), "{raw}");
        }
        assert_eq!(parse_timestamp("2024-02-29T23:59:59.1234Z"), Some(at + 123));
        assert_eq!(parse_timestamp("2024-02-29T23:59Z"), Some(at - 59_000));
        assert_eq!(parse_timestamp("2024-02-29"), Some(1_709_164_800_000));
        for ms in [0, 951_782_400_000, 1_709_251_199_999, 4_102_444_800_000] {
            assert_eq!(parse_timestamp(&timestamp(ms)), Some(ms), "round trip of {ms}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for raw in [
            "",
            "tomorrow",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-02-29T24:00:00Z",
            "2024-02-29T23:60:00Z",
            "2024-02-29X23:59:59Z",
            "2024-02-29T23:59:59+5",
            "2024-02-29T23:59:59 UTC",
            "2024-02-29T23:59:59.Z",
            "1969-12-31T23:59:59Z",
            "+2024-02-29T23:59:59Z",
        ] {
            assert_eq!(parse_timestamp(raw), None, "{raw:?}");
        }
    }
}
