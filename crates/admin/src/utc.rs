//! Unix seconds as people read them in lists: `YYYY-MM-DD HH:MM:SS`, UTC, for the CLI's
//! and the portal's tables (one formatter, so both print a time alike). Call record times,
//! with milliseconds and RFC 3339, are [`crate::cdr::format_time`].

/// `YYYY-MM-DD HH:MM:SS` of a Unix time in seconds, UTC (Howard Hinnant's civil-from-days).
pub fn date_time(t: u64) -> String {
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::date_time;

    #[test]
    fn unix_times_print_as_utc_dates() {
        assert_eq!(date_time(0), "1970-01-01 00:00:00");
        assert_eq!(date_time(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(date_time(1_796_299_199), "2026-12-03 11:59:59");
        assert_eq!(date_time(1_796_342_400), "2026-12-04 00:00:00");
    }
}
