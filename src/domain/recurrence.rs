//! Recurring tasks: the rule a task repeats by, and where completing it moves its due date.
//!
//! The calendar work is the `rrule` crate's (RFC 5545, with `chrono-tz` for wall-clock time
//! across daylight-saving changes); this module only checks that a rule stays inside the subset
//! SPEC §10 allows, and applies §10's two bases to it.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::body;
use super::Timestamp;
use crate::error::FieldError;

/// How far ahead a next occurrence is looked for before the series counts as finished: a rule
/// whose occurrences are further apart than this (or that can never occur) ends the series.
const SEARCH_LIMIT: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// The next due date follows the series that starts at the current due date.
    #[default]
    Due,
    /// The series starts again on the day the task is completed.
    Completion,
}

impl Basis {
    pub fn code(self) -> i16 {
        match self {
            Self::Due => 0,
            Self::Completion => 1,
        }
    }

    pub fn from_code(code: i16) -> Self {
        if code == 1 {
            Self::Completion
        } else {
            Self::Due
        }
    }
}

/// `{"rule", "basis", "timezone"}` on a task. `rule` is kept normalised: upper case, without an
/// `RRULE:` prefix, `UNTIL` in UTC, `COUNT` the occurrences left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Recurrence {
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO,WE")]
    pub rule: String,
    pub basis: Basis,
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
}

/// Where completing a recurring task leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Still open, due at `due`, repeating by `recurrence` (its `COUNT` lowered).
    Moved { due: Timestamp, recurrence: Recurrence },
    /// No occurrence is left: the task completes as any other.
    Finished,
}

const FREQUENCIES: [&str; 4] = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"];
const PARTS: [&str; 9] = [
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
];

fn rule_error(msg: impl Into<Cow<'static, str>>) -> FieldError {
    FieldError::new(&["body", "recurrence", "rule"], msg, "value_error")
}

impl Recurrence {
    /// Reads the body's `recurrence` object (not `null`: the caller handles clearing).
    pub fn parse(v: &Value) -> Result<Self, Vec<FieldError>> {
        let Value::Object(fields) = v else {
            return Err(vec![FieldError::new(
                &["body", "recurrence"],
                "Input should be a valid dictionary or object",
                "model_attributes_type",
            )]);
        };
        let mut errors = Vec::new();
        let timezone = match fields.get("timezone") {
            None | Some(Value::Null) => Some(chrono_tz::UTC),
            Some(v) => match body::string(v).ok().and_then(|s| s.parse::<chrono_tz::Tz>().ok()) {
                Some(tz) => Some(tz),
                None => {
                    errors.push(FieldError::new(
                        &["body", "recurrence", "timezone"],
                        "Input should be an IANA time zone name, such as Europe/Berlin",
                        "value_error",
                    ));
                    None
                }
            },
        };
        let basis = match fields.get("basis") {
            None | Some(Value::Null) => Some(Basis::Due),
            Some(Value::String(s)) if s == "due" => Some(Basis::Due),
            Some(Value::String(s)) if s == "completion" => Some(Basis::Completion),
            Some(_) => {
                errors.push(FieldError::new(
                    &["body", "recurrence", "basis"],
                    "Input should be 'due' or 'completion'",
                    "enum",
                ));
                None
            }
        };
        let rule = match fields.get("rule") {
            None => Err(FieldError::new(
                &["body", "recurrence", "rule"],
                "Field required",
                "missing",
            )),
            Some(v) => match body::string(v) {
                Ok(s) => normalize_rule(s, timezone.unwrap_or(chrono_tz::UTC)),
                Err((msg, kind)) => Err(FieldError::new(&["body", "recurrence", "rule"], msg, kind)),
            },
        };
        let rule = rule.map_err(|e| errors.push(e)).ok();
        match (rule, basis, timezone) {
            (Some(rule), Some(basis), Some(tz)) if errors.is_empty() => Ok(Self {
                rule,
                basis,
                timezone: tz.name().to_owned(),
            }),
            _ => Err(errors),
        }
    }

    fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// The `COUNT` left, if the rule has one.
    fn count(&self) -> Option<u32> {
        self.parts()
            .find(|(k, _)| *k == "COUNT")
            .and_then(|(_, v)| v.parse().ok())
    }

    fn parts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rule.split(';').filter_map(|p| p.split_once('='))
    }

    /// The rule with `COUNT` lowered by one.
    fn counted_down(&self) -> Self {
        let mut rule = String::with_capacity(self.rule.len());
        for (k, v) in self.parts() {
            if !rule.is_empty() {
                rule.push(';');
            }
            match (k, v.parse::<u32>()) {
                ("COUNT", Ok(n)) => {
                    let _ = write!(rule, "COUNT={}", n.saturating_sub(1));
                }
                _ => {
                    let _ = write!(rule, "{k}={v}");
                }
            }
        }
        Self { rule, ..self.clone() }
    }

    /// The rule as the `rrule` crate takes it: `COUNT` is ours to count down, so it is left out,
    /// and the time of day is the due date's, said outright: the crate would take it from the
    /// start, which on the day a daylight-saving change skips the due time is an hour off.
    fn series(&self, start: DateTime<rrule::Tz>, time: chrono::NaiveTime) -> Option<rrule::RRuleSet> {
        let mut text = rule_without(&self.rule, &["COUNT"]);
        let _ = write!(
            text,
            ";BYHOUR={};BYMINUTE={};BYSECOND={}",
            time.hour(),
            time.minute(),
            time.second()
        );
        let rule: rrule::RRule<rrule::Unvalidated> = text.parse().ok()?;
        rule.build(start).ok()
    }

    /// Whether the rule has any occurrence at all, counted from a stand-in start (2000-01-01 in
    /// its zone; `COUNT` and `UNTIL` left out). Some rules pass every check and still never occur
    /// (`FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6`): the crate gives up on them only after 10^5 empty
    /// periods, tens of milliseconds, which a completion would pay while holding the owner's
    /// write. So they are refused when set, and the caller runs this off the async threads.
    pub fn occurs(&self) -> bool {
        let Ok(rule) = rule_without(&self.rule, &["COUNT", "UNTIL"]).parse::<rrule::RRule<rrule::Unvalidated>>() else {
            return false;
        };
        let Some(start) = stand_in_start(self.tz()) else {
            return false;
        };
        rule.build(start).is_ok_and(|set| set.into_iter().next().is_some())
    }

    /// Where completing the task at `now` moves a due date of `due` (§10).
    pub fn next(&self, due: Timestamp, now: Timestamp) -> Next {
        if self.count().is_some_and(|n| n <= 1) {
            return Next::Finished;
        }
        let tz = self.tz();
        let due_local = due.as_datetime().with_timezone(&tz);
        // The crate works in whole seconds: the fraction of the due date is carried over.
        let fraction = chrono::Duration::nanoseconds(i64::from(due_local.nanosecond()));
        let found = match self.basis {
            Basis::Due => {
                let start = (due_local - fraction).with_timezone(&rrule::Tz::Tz(tz));
                let after = due.max(now).as_datetime();
                self.series(start, due_local.time()).and_then(|set| {
                    set.into_iter().take(SEARCH_LIMIT).find(|occurrence| {
                        keeps_time(occurrence, &due_local) && occurrence.with_timezone(&Utc) + fraction > after
                    })
                })
            }
            Basis::Completion => {
                let today = now.as_datetime().with_timezone(&tz).date_naive();
                let start = local(tz, today.and_time(due_local.time()) - fraction);
                start.and_then(|start| {
                    self.series(start.with_timezone(&rrule::Tz::Tz(tz)), due_local.time())
                        .and_then(|set| {
                            set.into_iter().take(SEARCH_LIMIT).find(|occurrence| {
                                keeps_time(occurrence, &due_local) && occurrence.with_timezone(&tz).date_naive() > today
                            })
                        })
                })
            }
        };
        match found {
            // Past what a timestamp can say (RFC 3339 has four-digit years): the series is over.
            Some(occurrence) if occurrence.with_timezone(&Utc).year() > 9999 => Next::Finished,
            Some(occurrence) => Next::Moved {
                due: Timestamp::from_datetime(occurrence.with_timezone(&Utc) + fraction),
                recurrence: self.counted_down(),
            },
            None => Next::Finished,
        }
    }
}

/// Whether an occurrence has the due date's wall-clock time. One that a daylight-saving change
/// skips (02:30 on the night clocks go forward) comes back from the crate shifted by the gap:
/// RFC 5545 §3.3.10 says such an instance is ignored, and ignoring it keeps the time of day.
fn keeps_time(occurrence: &DateTime<rrule::Tz>, due_local: &DateTime<chrono_tz::Tz>) -> bool {
    let local = occurrence.with_timezone(&due_local.timezone());
    (local.hour(), local.minute(), local.second()) == (due_local.hour(), due_local.minute(), due_local.second())
}

/// A wall-clock time in `tz`; one that a daylight-saving change skips is read one hour later.
fn local(tz: chrono_tz::Tz, at: NaiveDateTime) -> Option<DateTime<chrono_tz::Tz>> {
    tz.from_local_datetime(&at)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(at + chrono::Duration::hours(1))).earliest())
}

/// Checks a rule against §10's subset and writes it in the one form the server keeps.
fn normalize_rule(raw: &str, tz: chrono_tz::Tz) -> Result<String, FieldError> {
    let text = raw.trim();
    let text = match text.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("RRULE:") => &text[6..],
        _ => text,
    };
    if text.is_empty() {
        return Err(rule_error("Recurrence rule should not be empty"));
    }
    let mut parts: Vec<(String, String)> = Vec::new();
    for part in text.split(';').filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(rule_error(format!("Rule part {part:?} should be NAME=VALUE")));
        };
        let (key, value) = (key.trim().to_ascii_uppercase(), value.trim().to_ascii_uppercase());
        if !PARTS.contains(&key.as_str()) {
            return Err(rule_error(format!(
                "Rule part {key} is not supported; use FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST"
            )));
        }
        if parts.iter().any(|(k, _)| *k == key) {
            return Err(rule_error(format!("Rule part {key} appears twice")));
        }
        parts.push((key, value));
    }
    let get = |name: &str| parts.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let freq = match get("FREQ") {
        Some(f) if FREQUENCIES.contains(&f) => f.to_owned(),
        Some(_) => return Err(rule_error("FREQ should be DAILY, WEEKLY, MONTHLY or YEARLY")),
        None => return Err(rule_error("FREQ is required")),
    };
    for name in ["INTERVAL", "COUNT"] {
        if let Some(v) = get(name) {
            if !v.parse::<u32>().is_ok_and(|n| (1..=10_000).contains(&n)) {
                return Err(rule_error(format!("{name} should be a whole number from 1 to 10000")));
            }
        }
    }
    if get("COUNT").is_some() && get("UNTIL").is_some() {
        return Err(rule_error("COUNT and UNTIL cannot be used together"));
    }
    if let Some(days) = get("BYDAY") {
        let ordinal = days
            .split(',')
            .any(|d| !d.trim_end_matches(char::is_alphabetic).is_empty());
        if ordinal && !matches!(freq.as_str(), "MONTHLY" | "YEARLY") {
            return Err(rule_error(
                "BYDAY ordinals such as 1MO or -1FR need FREQ=MONTHLY or YEARLY",
            ));
        }
    }
    // The numbers are checked here: the crate takes BYMONTHDAY=0, and fills BY parts in from
    // the start date before it checks that BYSETPOS has one beside it.
    let month_days = numbers(get("BYMONTHDAY"), "BYMONTHDAY", 31, true)?;
    let months = numbers(get("BYMONTH"), "BYMONTH", 12, false)?;
    numbers(get("BYSETPOS"), "BYSETPOS", 366, true)?;
    if !month_days.is_empty() && freq == "WEEKLY" {
        return Err(rule_error("BYMONTHDAY cannot be used with FREQ=WEEKLY"));
    }
    if get("BYSETPOS").is_some() && ["BYDAY", "BYMONTHDAY", "BYMONTH"].iter().all(|p| get(p).is_none()) {
        return Err(rule_error("BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH beside it"));
    }
    let month_length = |m: i32| match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !months.is_empty()
        && !month_days.is_empty()
        && !months
            .iter()
            .any(|&m| month_days.iter().any(|d| d.abs() <= month_length(m)))
    {
        return Err(rule_error(
            "This rule never occurs: no month it names has the day it names",
        ));
    }
    let mut normalized = String::with_capacity(text.len());
    for (key, value) in &parts {
        if !normalized.is_empty() {
            normalized.push(';');
        }
        let value = if key == "UNTIL" {
            until_utc(value, tz)
                .ok_or_else(|| rule_error("UNTIL should be a date (20261231) or date-time (20261231T235959Z)"))?
        } else {
            value.clone()
        };
        let _ = write!(normalized, "{key}={value}");
    }
    // The rest of the grammar (weekday names, ranges, BYSETPOS needing another BY part) is the
    // crate's to check; the start is a stand-in, since the rule is checked before it has one.
    let rule: rrule::RRule<rrule::Unvalidated> = rule_without(&normalized, &["COUNT", "UNTIL"])
        .parse()
        .map_err(|e: rrule::RRuleError| rule_error(format!("Invalid recurrence rule: {e}")))?;
    if let Some(start) = stand_in_start(tz) {
        rule.build(start)
            .map_err(|e| rule_error(format!("Invalid recurrence rule: {e}")))?;
    }
    Ok(normalized)
}

/// A normalised rule without the parts named in `leave_out`, for the crate to read.
fn rule_without(rule: &str, leave_out: &[&str]) -> String {
    rule.split(';')
        .filter(|part| !part.split_once('=').is_some_and(|(key, _)| leave_out.contains(&key)))
        .collect::<Vec<_>>()
        .join(";")
}

/// Where a rule is tried before it has a due date: 2000-01-01, midnight in its zone.
fn stand_in_start(tz: chrono_tz::Tz) -> Option<DateTime<rrule::Tz>> {
    rrule::Tz::Tz(tz).with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single()
}

/// A rule part's comma-separated numbers, each within `1..=max` (or `-max..=-1` when `signed`).
fn numbers(value: Option<&str>, name: &str, max: i32, signed: bool) -> Result<Vec<i32>, FieldError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(|n| {
            n.strip_prefix('+')
                .unwrap_or(n)
                .parse::<i32>()
                .ok()
                .filter(|n| (1..=max).contains(n) || (signed && (-max..=-1).contains(n)))
                .ok_or_else(|| {
                    rule_error(if signed {
                        format!("{name} should list numbers from 1 to {max} or -{max} to -1")
                    } else {
                        format!("{name} should list numbers from 1 to {max}")
                    })
                })
        })
        .collect()
}

/// `UNTIL` in UTC (`YYYYMMDDTHHMMSSZ`): a floating date-time is read in the rule's time zone, and
/// a bare date means the end of that day there.
fn until_utc(value: &str, tz: chrono_tz::Tz) -> Option<String> {
    let instant = if let Some(utc) = value.strip_suffix('Z') {
        NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?.and_utc()
    } else if value.len() == 8 {
        let day = NaiveDate::parse_from_str(value, "%Y%m%d").ok()?;
        local(tz, day.and_hms_opt(23, 59, 59)?)?.with_timezone(&Utc)
    } else {
        local(tz, NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").ok()?)?.with_timezone(&Utc)
    };
    if !(1..=9999).contains(&instant.year()) {
        return None;
    }
    Some(instant.format("%Y%m%dT%H%M%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn rec(rule: &str, basis: &str, tz: &str) -> Recurrence {
        Recurrence::parse(&json!({"rule": rule, "basis": basis, "timezone": tz})).unwrap()
    }

    fn moved(r: &Recurrence, due: &str, now: &str) -> (String, Recurrence) {
        match r.next(at(due), at(now)) {
            Next::Moved { due, recurrence } => (due.to_string(), recurrence),
            Next::Finished => panic!("{} from {due} at {now}: finished", r.rule),
        }
    }

    #[test]
    fn normalises_and_refuses() {
        let r = rec("rrule:freq=weekly;byday=mo,we", "due", "Europe/Berlin");
        assert_eq!(r.rule, "FREQ=WEEKLY;BYDAY=MO,WE");
        assert_eq!(
            rec("FREQ=DAILY;UNTIL=20261231", "due", "UTC").rule,
            "FREQ=DAILY;UNTIL=20261231T235959Z"
        );
        assert_eq!(
            rec("FREQ=DAILY;UNTIL=20260701T120000", "due", "Europe/Berlin").rule,
            "FREQ=DAILY;UNTIL=20260701T100000Z"
        );
        for bad in [
            "",
            "FREQ=HOURLY",
            "FREQ=MINUTELY",
            "INTERVAL=2",
            "FREQ=DAILY;BYHOUR=9",
            "FREQ=DAILY;FREQ=WEEKLY",
            "FREQ=DAILY;COUNT=0",
            "FREQ=DAILY;COUNT=2;UNTIL=20270101T000000Z",
            "FREQ=WEEKLY;BYDAY=1MO",
            "FREQ=WEEKLY;BYDAY=XX",
            "FREQ=MONTHLY;BYMONTHDAY=32",
            "FREQ=MONTHLY;BYMONTHDAY=0",
            "FREQ=MONTHLY;BYMONTHDAY=-32",
            "FREQ=YEARLY;BYMONTH=0",
            "FREQ=YEARLY;BYMONTH=-1",
            "FREQ=MONTHLY;BYSETPOS=1",
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0",
            "FREQ=WEEKLY;BYMONTHDAY=1",
            "FREQ=DAILY;BYMONTHDAY=31;BYMONTH=4",
            "FREQ=YEARLY;BYMONTHDAY=30,31;BYMONTH=2",
            "FREQ=DAILY;UNTIL=tomorrow",
            "FREQ=DAILY;X-NAME=1",
            "DTSTART:20260101T000000Z",
        ] {
            let err = Recurrence::parse(&json!({"rule": bad})).unwrap_err();
            assert_eq!(err[0].loc, ["body", "recurrence", "rule"], "{bad}");
        }
        let err = Recurrence::parse(&json!({"rule": "FREQ=DAILY", "timezone": "Mars/Olympus"})).unwrap_err();
        assert_eq!(err[0].loc, ["body", "recurrence", "timezone"]);
        let err = Recurrence::parse(&json!({"rule": "FREQ=DAILY", "basis": "whenever"})).unwrap_err();
        assert_eq!(err[0].loc, ["body", "recurrence", "basis"]);
        let defaults = Recurrence::parse(&json!({"rule": "FREQ=DAILY"})).unwrap();
        assert_eq!((defaults.basis, defaults.timezone.as_str()), (Basis::Due, "UTC"));
    }

    #[test]
    fn daily_keeps_wall_clock_time_across_both_dst_changes() {
        let r = rec("FREQ=DAILY", "due", "Europe/Berlin");
        // 09:00 CET is 08:00Z; the day after the March change it is 09:00 CEST = 07:00Z.
        assert_eq!(
            moved(&r, "2026-03-28T08:00:00Z", "2026-03-28T07:00:00Z").0,
            "2026-03-29T07:00:00.000000Z"
        );
        assert_eq!(
            moved(&r, "2026-10-24T07:00:00Z", "2026-10-24T06:00:00Z").0,
            "2026-10-25T08:00:00.000000Z"
        );
    }

    #[test]
    fn wall_clock_times_that_dst_skips_or_repeats() {
        // 02:30 does not exist in Berlin on 2027-03-28: RFC 5545 §3.3.10 ignores that instance,
        // so a daily 02:30 task moves from the 27th to 02:30 CEST on the 29th.
        let r = rec("FREQ=DAILY", "due", "Europe/Berlin");
        assert_eq!(
            moved(&r, "2027-03-27T01:30:00Z", "2027-03-27T00:00:00Z").0,
            "2027-03-29T00:30:00.000000Z"
        );
        // 02:30 happens twice on 2027-10-31: the first (CEST) is meant.
        assert_eq!(
            moved(&r, "2027-10-30T00:30:00Z", "2027-10-30T00:00:00Z").0,
            "2027-10-31T00:30:00.000000Z"
        );
    }

    #[test]
    fn completion_on_the_day_dst_skips_the_due_time() {
        // Done on 2027-03-28, when Berlin has no 02:30: the series still goes on at 02:30, from
        // the next day (02:30 CEST = 00:30Z).
        let r = rec("FREQ=DAILY", "completion", "Europe/Berlin");
        assert_eq!(
            moved(&r, "2027-03-27T01:30:00Z", "2027-03-28T10:00:00Z").0,
            "2027-03-29T00:30:00.000000Z"
        );
    }

    #[test]
    fn a_series_ends_where_timestamps_do() {
        let r = rec("FREQ=YEARLY", "due", "UTC");
        assert_eq!(
            r.next(at("9999-06-01T09:00:00Z"), at("9999-06-01T10:00:00Z")),
            Next::Finished
        );
        assert_eq!(
            moved(&r, "9998-06-01T09:00:00Z", "9998-06-01T10:00:00Z").0,
            "9999-06-01T09:00:00.000000Z"
        );
    }

    #[test]
    fn rules_that_never_occur_are_told_apart() {
        for never in [
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYSETPOS=2",
        ] {
            assert!(!rec(never, "due", "UTC").occurs(), "{never}");
        }
        for sometimes in [
            "FREQ=DAILY",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
            "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
            "FREQ=MONTHLY;BYDAY=5FR",
            "FREQ=DAILY;UNTIL=19990101",
        ] {
            assert!(rec(sometimes, "due", "Europe/Berlin").occurs(), "{sometimes}");
        }
    }

    #[test]
    fn weekly_on_two_days() {
        let r = rec("FREQ=WEEKLY;BYDAY=MO,WE", "due", "UTC");
        // Monday 2026-03-02 → Wednesday → the next Monday.
        assert_eq!(
            moved(&r, "2026-03-02T10:00:00Z", "2026-03-02T09:00:00Z").0,
            "2026-03-04T10:00:00.000000Z"
        );
        assert_eq!(
            moved(&r, "2026-03-04T10:00:00Z", "2026-03-04T09:00:00Z").0,
            "2026-03-09T10:00:00.000000Z"
        );
    }

    #[test]
    fn month_ends() {
        let monthly = rec("FREQ=MONTHLY", "due", "UTC");
        // January 31 has no February twin: RFC 5545 skips it.
        assert_eq!(
            moved(&monthly, "2026-01-31T12:00:00Z", "2026-01-31T11:00:00Z").0,
            "2026-03-31T12:00:00.000000Z"
        );
        let last = rec("FREQ=MONTHLY;BYMONTHDAY=-1", "due", "UTC");
        assert_eq!(
            moved(&last, "2026-01-31T12:00:00Z", "2026-01-31T11:00:00Z").0,
            "2026-02-28T12:00:00.000000Z"
        );
        let last_friday = rec("FREQ=MONTHLY;BYDAY=-1FR", "due", "UTC");
        assert_eq!(
            moved(&last_friday, "2026-01-30T12:00:00Z", "2026-01-30T11:00:00Z").0,
            "2026-02-27T12:00:00.000000Z"
        );
        let leap = rec("FREQ=YEARLY", "due", "UTC");
        assert_eq!(
            moved(&leap, "2028-02-29T12:00:00Z", "2028-02-29T11:00:00Z").0,
            "2032-02-29T12:00:00.000000Z"
        );
    }

    #[test]
    fn overdue_skips_missed_occurrences() {
        let r = rec("FREQ=DAILY", "due", "UTC");
        assert_eq!(
            moved(&r, "2026-03-01T09:00:00.250000Z", "2026-03-05T12:00:00Z").0,
            "2026-03-06T09:00:00.250000Z"
        );
    }

    #[test]
    fn completion_basis_restarts_on_the_day_done() {
        let r = rec("FREQ=DAILY;INTERVAL=3", "completion", "UTC");
        assert_eq!(
            moved(&r, "2026-03-01T09:00:00Z", "2026-03-05T20:00:00Z").0,
            "2026-03-08T09:00:00.000000Z"
        );
    }

    #[test]
    fn count_counts_down_and_until_ends() {
        let r = rec("FREQ=DAILY;COUNT=2", "due", "UTC");
        let (due, r) = moved(&r, "2026-03-01T09:00:00Z", "2026-03-01T08:00:00Z");
        assert_eq!(
            (due.as_str(), r.rule.as_str()),
            ("2026-03-02T09:00:00.000000Z", "FREQ=DAILY;COUNT=1")
        );
        assert_eq!(r.next(at(&due), at("2026-03-02T08:00:00Z")), Next::Finished);
        let until = rec("FREQ=DAILY;UNTIL=20260302T090000Z", "due", "UTC");
        assert_eq!(
            moved(&until, "2026-03-01T09:00:00Z", "2026-03-01T08:00:00Z").0,
            "2026-03-02T09:00:00.000000Z"
        );
        assert_eq!(
            until.next(at("2026-03-02T09:00:00Z"), at("2026-03-02T08:00:00Z")),
            Next::Finished
        );
    }
}
