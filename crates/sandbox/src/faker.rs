//! Plausible fake values for simulated events: ids, people, addresses, dates near a fixed
//! "now". Short hand-written word lists; nothing here matches a real record.

use time::{Date, Duration, OffsetDateTime, format_description::well_known::Rfc3339};

mod words;
pub(crate) use words::ENROLLMENT_STATUSES;
use words::*;

/// Generates fake values. Within one JSON object of a template, names, email, city, state and
/// zip code stay consistent with each other; each nested object gets its own person and place.
#[derive(Debug)]
pub struct Faker {
    rng: fastrand::Rng,
    now: OffsetDateTime,
    person: Option<(usize, usize)>,
    location: Option<usize>,
}

impl Faker {
    /// A faker seeded from the OS, with "now" the current UTC time (to the second).
    pub fn new() -> Self {
        Self::with_seed(fastrand::u64(..), OffsetDateTime::now_utc())
    }

    /// A deterministic faker: the same seed and `now` give the same values.
    pub fn with_seed(seed: u64, now: OffsetDateTime) -> Self {
        Faker {
            rng: fastrand::Rng::with_seed(seed),
            now: now.replace_nanosecond(0).unwrap_or(now),
            person: None,
            location: None,
        }
    }

    /// The instant that dates are generated around.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// Starts a fresh person and place for a nested JSON object; returns the outer ones for
    /// [`Faker::leave_object`].
    pub(crate) fn enter_object(&mut self) -> Scope {
        Scope { person: self.person.take(), location: self.location.take() }
    }

    /// Restores the person and place of the enclosing object.
    pub(crate) fn leave_object(&mut self, outer: Scope) {
        self.person = outer.person;
        self.location = outer.location;
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.usize(..list.len())]
    }

    fn person(&mut self) -> (&'static str, &'static str) {
        let (f, l) = *self.person.get_or_insert_with(|| {
            (self.rng.usize(..FIRST_NAMES.len()), self.rng.usize(..LAST_NAMES.len()))
        });
        (FIRST_NAMES[f], LAST_NAMES[l])
    }

    fn location(&mut self) -> (&'static str, &'static str, u32) {
        let i = *self.location.get_or_insert_with(|| self.rng.usize(..LOCATIONS.len()));
        LOCATIONS[i]
    }

    /// A random (version 4) UUID, lowercase and hyphenated.
    pub fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }

    /// A positive integer id below a million.
    pub fn int(&mut self) -> u64 {
        self.rng.u64(1..1_000_000)
    }

    /// An amount in cents, 1.00 to 2,500.00.
    pub fn amount(&mut self) -> u64 {
        self.rng.u64(100..=250_000)
    }

    /// A coin flip.
    pub fn bool(&mut self) -> bool {
        self.rng.bool()
    }

    /// `n` characters from `[0-9A-Za-z]`.
    pub fn alnum(&mut self, n: usize) -> String {
        (0..n).map(|_| self.rng.alphanumeric()).collect()
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit(self.rng.u32(..16), 16).unwrap_or('0')).collect()
    }

    /// A first name.
    pub fn first_name(&mut self) -> String {
        self.person().0.to_owned()
    }

    /// A last name.
    pub fn last_name(&mut self) -> String {
        self.person().1.to_owned()
    }

    /// "First Last".
    pub fn name(&mut self) -> String {
        let (f, l) = self.person();
        format!("{f} {l}")
    }

    /// An address at `example.com` (reserved for examples) built from the current person.
    pub fn email(&mut self) -> String {
        let (f, l) = self.person();
        let n = self.rng.u32(1..100);
        format!("{}.{}{n}@example.com", f.to_lowercase(), l.to_lowercase())
    }

    /// A US phone number in the 555-01xx range reserved for fiction.
    pub fn phone(&mut self) -> String {
        let area = AREA_CODES[self.rng.usize(..AREA_CODES.len())];
        format!("({area}) 555-01{:02}", self.rng.u32(..100))
    }

    /// An employer name.
    pub fn company(&mut self) -> String {
        self.pick(COMPANIES).to_owned()
    }

    /// A loan servicer name.
    pub fn servicer(&mut self) -> String {
        self.pick(SERVICERS).to_owned()
    }

    /// "1234 Maple St".
    pub fn street(&mut self) -> String {
        let n = self.rng.u32(1..9_900);
        let name = self.pick(STREET_NAMES);
        let suffix = self.pick(STREET_SUFFIXES);
        format!("{n} {name} {suffix}")
    }

    /// A second address line, empty about half the time.
    pub fn street2(&mut self) -> String {
        match self.rng.u32(..4) {
            0 => format!("Apt {}", self.rng.u32(1..40)),
            1 => {
                format!("Unit {}{}", self.rng.u32(1..9), self.rng.alphabetic().to_ascii_uppercase())
            }
            _ => String::new(),
        }
    }

    /// A city.
    pub fn city(&mut self) -> String {
        self.location().0.to_owned()
    }

    /// A two-letter state code matching the city.
    pub fn state(&mut self) -> String {
        self.location().1.to_owned()
    }

    /// A five-digit zip code matching the city.
    pub fn zipcode(&mut self) -> String {
        let prefix = self.location().2;
        format!("{prefix:03}{:02}", self.rng.u32(..100))
    }

    /// One of the documented enrollment status types.
    pub fn enrollment_status(&mut self) -> String {
        self.pick(ENROLLMENT_STATUSES).to_owned()
    }

    /// `now` in RFC 3339.
    pub fn now_rfc3339(&self) -> String {
        rfc3339(self.now)
    }

    /// An RFC 3339 instant in the last 30 days.
    pub fn datetime(&mut self) -> String {
        let back = Duration::seconds(self.rng.i64(0..30 * 86_400));
        rfc3339(self.now - back)
    }

    /// `now` in Unix seconds.
    pub fn timestamp(&self) -> i64 {
        self.now.unix_timestamp()
    }

    /// A `YYYY-MM-DD` date in the last 30 days.
    pub fn date(&mut self) -> String {
        let back = self.rng.i64(0..30);
        ymd(self.now.date() - Duration::days(back))
    }

    /// A `YYYY-MM-DD` date 1 to 10 years ago.
    pub fn past_date(&mut self) -> String {
        let back = self.rng.i64(365..3_650);
        ymd(self.now.date() - Duration::days(back))
    }

    /// A `YYYY-MM-DD` date 1 to 60 days ahead.
    pub fn future_date(&mut self) -> String {
        let ahead = self.rng.i64(1..=60);
        ymd(self.now.date() + Duration::days(ahead))
    }

    /// A `YYYY-MM-DD` birth date 22 to 60 years ago.
    pub fn birth_date(&mut self) -> String {
        let back = self.rng.i64(22 * 365..60 * 365);
        ymd(self.now.date() - Duration::days(back))
    }
}

/// The person and place of an enclosing object, saved while a nested one is rendered.
#[derive(Debug)]
pub(crate) struct Scope {
    person: Option<(usize, usize)>,
    location: Option<usize>,
}

impl Default for Faker {
    fn default() -> Self {
        Self::new()
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("a UTC time near now always formats as RFC 3339")
}

fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faker() -> Faker {
        Faker::with_seed(7, time::macros::datetime!(2026-11-26 12:00:00 UTC))
    }

    #[test]
    fn uuids_are_version_4_and_hyphenated() {
        let mut f = faker();
        for _ in 0..50 {
            let u = f.uuid();
            assert!(crate::catalog::tests::is_uuid(&u), "{u}");
            assert_eq!(&u[14..15], "4");
        }
    }

    #[test]
    fn person_and_place_are_consistent_within_an_object() {
        let mut f = faker();
        let first = f.first_name();
        let email = f.email();
        assert!(email.starts_with(&first.to_lowercase()), "{email}");
        let city = f.city();
        let state = f.state();
        let loc = LOCATIONS.iter().find(|l| l.0 == city).expect("city from the list");
        assert_eq!(loc.1, state);
        assert!(f.zipcode().starts_with(&format!("{:03}", loc.2)));
    }

    #[test]
    fn dates_are_near_now() {
        let mut f = faker();
        let now = f.now().date();
        for _ in 0..50 {
            let d =
                Date::parse(&f.date(), time::macros::format_description!("[year]-[month]-[day]"))
                    .expect("YYYY-MM-DD");
            assert!(d <= now && now - d <= Duration::days(30));
            let fut = Date::parse(
                &f.future_date(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .expect("YYYY-MM-DD");
            assert!(fut > now);
            let dt = OffsetDateTime::parse(&f.datetime(), &Rfc3339).expect("RFC 3339");
            assert!(dt <= f.now() && f.now() - dt <= Duration::days(30));
        }
        assert_eq!(f.now_rfc3339(), "2026-11-26T12:00:00Z");
    }
}
