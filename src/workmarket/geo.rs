//! WorkMarket's states and countries as the 2-letter codes 1099Policy wants.
//!
//! WorkMarket writes them however they were entered: "USA", "United States", "US"; "California",
//! "CA", "ca". Unknown values give `None` — a guessed region would insure the wrong state.

/// US states, DC and the inhabited territories: (code, name).
const US_STATES: &[(&str, &str)] = &[
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("DC", "District of Columbia"),
    ("PR", "Puerto Rico"),
    ("GU", "Guam"),
    ("VI", "U.S. Virgin Islands"),
    ("AS", "American Samoa"),
    ("MP", "Northern Mariana Islands"),
];

/// Other names people write for a state or territory.
const US_STATE_ALIASES: &[(&str, &str)] = &[
    ("DC", "Washington DC"),
    ("DC", "Washington D.C."),
    ("DC", "D.C."),
    ("VI", "US Virgin Islands"),
    ("VI", "Virgin Islands"),
    ("MP", "Northern Mariana"),
];

/// Countries WorkMarket work is likely to be in: (ISO 3166 alpha-2, alpha-3, names…).
const COUNTRIES: &[(&str, &str, &[&str])] = &[
    ("US", "USA", &["United States", "United States of America", "U.S.", "U.S.A.", "America"]),
    ("CA", "CAN", &["Canada"]),
    ("MX", "MEX", &["Mexico", "México"]),
    ("GB", "GBR", &["United Kingdom", "UK", "Great Britain", "England"]),
    ("IE", "IRL", &["Ireland"]),
    ("AU", "AUS", &["Australia"]),
    ("NZ", "NZL", &["New Zealand"]),
    ("IN", "IND", &["India"]),
    ("PH", "PHL", &["Philippines"]),
    ("DE", "DEU", &["Germany"]),
    ("FR", "FRA", &["France"]),
    ("ES", "ESP", &["Spain"]),
    ("IT", "ITA", &["Italy"]),
    ("NL", "NLD", &["Netherlands", "The Netherlands"]),
    ("BR", "BRA", &["Brazil"]),
    ("PR", "PRI", &["Puerto Rico"]),
    ("GU", "GUM", &["Guam"]),
    ("VI", "VIR", &["U.S. Virgin Islands", "US Virgin Islands"]),
    ("AS", "ASM", &["American Samoa"]),
    ("MP", "MNP", &["Northern Mariana Islands"]),
];

/// Compares names ignoring case, surrounding space and repeated inner space.
fn same(a: &str, b: &str) -> bool {
    let words = |s: &str| s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
    words(a) == words(b)
}

/// The 2-letter code of a US state, DC or territory, from its code or name in any case:
/// "California", "CA", "ca" → "CA". `None` when it is none of them.
pub fn us_state_code(value: &str) -> Option<&'static str> {
    let value = value.trim();
    US_STATES
        .iter()
        .find(|(code, name)| code.eq_ignore_ascii_case(value) || same(name, value))
        .or_else(|| US_STATE_ALIASES.iter().find(|(_, name)| same(name, value)))
        .map(|(code, _)| *code)
}

/// The ISO 3166 alpha-2 code of a country, from its alpha-2 or alpha-3 code or a common name:
/// "USA", "United States", "us" → "US". `None` for countries this table does not know.
pub fn country_code(value: &str) -> Option<&'static str> {
    let value = value.trim();
    COUNTRIES
        .iter()
        .find(|(alpha2, alpha3, names)| {
            alpha2.eq_ignore_ascii_case(value)
                || alpha3.eq_ignore_ascii_case(value)
                || names.iter().any(|name| same(name, value))
        })
        .map(|(alpha2, _, _)| *alpha2)
}

/// The 2-letter state code for a (state, country) pair as WorkMarket gives it. States are only
/// known for the US (and an absent country, which in practice is US work); elsewhere `None`.
pub fn state_code(state: &str, country: Option<&str>) -> Option<&'static str> {
    match country.map(country_code) {
        None | Some(Some("US")) => us_state_code(state),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_by_code_or_name_in_any_case() {
        for (value, code) in [
            ("California", "CA"),
            ("CA", "CA"),
            ("ca", "CA"),
            (" new  york ", "NY"),
            ("NY", "NY"),
            ("Texas", "TX"),
            ("District of Columbia", "DC"),
            ("Washington DC", "DC"),
            ("Puerto Rico", "PR"),
            ("gu", "GU"),
            ("U.S. Virgin Islands", "VI"),
        ] {
            assert_eq!(us_state_code(value), Some(code), "{value}");
        }
    }

    #[test]
    fn all_fifty_states_dc_and_five_territories() {
        assert_eq!(US_STATES.len(), 56);
        for (code, name) in US_STATES {
            assert_eq!(us_state_code(code), Some(*code));
            assert_eq!(us_state_code(name), Some(*code));
        }
    }

    #[test]
    fn countries_by_code_or_name() {
        for (value, code) in [
            ("USA", "US"),
            ("United States", "US"),
            ("united states of america", "US"),
            ("US", "US"),
            ("us", "US"),
            ("Canada", "CA"),
            ("CAN", "CA"),
            ("United Kingdom", "GB"),
            ("GBR", "GB"),
        ] {
            assert_eq!(country_code(value), Some(code), "{value}");
        }
    }

    #[test]
    fn unknowns_are_none_not_guesses() {
        for value in ["", "Cali", "Calif.", "XX", "Atlantis", "N.Y"] {
            assert_eq!(us_state_code(value), None, "{value}");
        }
        for value in ["", "Amerika", "ZZZ", "Atlantis"] {
            assert_eq!(country_code(value), None, "{value}");
        }
    }

    #[test]
    fn states_only_mean_us_states_in_the_us() {
        assert_eq!(state_code("California", Some("USA")), Some("CA"));
        assert_eq!(state_code("NY", None), Some("NY"));
        assert_eq!(state_code("ON", Some("Canada")), None);
        assert_eq!(state_code("CA", Some("Atlantis")), None);
    }
}
