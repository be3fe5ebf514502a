//! Short word lists for plausible fake people, places and employers.

pub(super) const FIRST_NAMES: &[&str] = &[
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Priya", "Lucas", "Grace", "Omar", "Chloe",
    "Mateo", "Nora", "Elijah", "Hana", "Caleb", "Aaliyah", "Owen", "Sofia", "Jamal", "Ivy",
    "Diego", "Leah", "Marcus", "Ruby", "Andre", "Tessa", "Kenji", "Naomi", "Felix",
];
pub(super) const LAST_NAMES: &[&str] = &[
    "Johnson",
    "Nguyen",
    "Garcia",
    "Patel",
    "Okafor",
    "Smith",
    "Kim",
    "Rivera",
    "Brown",
    "Martinez",
    "Chen",
    "Williams",
    "Lopez",
    "Davis",
    "Singh",
    "Miller",
    "Hernandez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Moore",
    "Jackson",
    "Lee",
    "Walker",
    "Young",
    "Hall",
    "Allen",
    "Wright",
    "Scott",
    "Green",
];
pub(super) const STREET_NAMES: &[&str] = &[
    "Maple",
    "Oak",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Ridge",
    "Highland",
    "Jefferson",
    "Walnut",
    "Willow",
    "River",
    "Church",
    "Spring",
    "Mill",
    "Meadow",
];
pub(super) const STREET_SUFFIXES: &[&str] =
    &["St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl"];
/// City, two-letter state, and the first three digits of its zip codes.
pub(super) const LOCATIONS: &[(&str, &str, u32)] = &[
    ("Springfield", "IL", 627),
    ("Madison", "WI", 537),
    ("Austin", "TX", 787),
    ("Columbus", "OH", 432),
    ("Denver", "CO", 802),
    ("Portland", "OR", 972),
    ("Raleigh", "NC", 276),
    ("Tucson", "AZ", 857),
    ("Omaha", "NE", 681),
    ("Richmond", "VA", 232),
    ("Boise", "ID", 837),
    ("Albany", "NY", 122),
    ("Savannah", "GA", 314),
    ("Des Moines", "IA", 503),
    ("Sacramento", "CA", 958),
];
pub(super) const COMPANIES: &[&str] = &[
    "Northwind Logistics",
    "Blue River Health",
    "Summit Schools District",
    "Lakeside Credit Union",
    "Brightpath Software",
    "Evergreen Hospital",
    "Redwood Analytics",
    "Harbor City Transit",
    "Pioneer Manufacturing",
    "Cascade Dental Group",
];
/// US federal student-loan servicer names, for `Servicer.name` (the provider's docs show
/// "Great Lakes").
pub(super) const SERVICERS: &[&str] =
    &["Great Lakes", "Nelnet", "MOHELA", "Aidvantage", "EdFinancial", "OSLA Servicing"];
/// The provider's documented Enrollment `status.type` values.
pub(crate) const ENROLLMENT_STATUSES: &[&str] = &[
    "pending",
    "partially_submitted",
    "complete",
    "approved",
    "needs_attention",
    "unprocessable",
    "cancelled",
];
pub(super) const AREA_CODES: &[u32] = &[217, 312, 512, 614, 720, 503, 919, 520, 402, 804];
