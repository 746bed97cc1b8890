//! WorkMarket pricing, and the one rule that turns it into a 1099Policy wage.

use std::fmt;

use crate::insurance::WageType;
use crate::money::Cents;

/// How a work order is priced. `/get` reports the description (`FLAT FEE`, `PER HOUR`,
/// `BLENDED PER HOUR`, `INTERNAL / LANE 1`), webhooks the enum name (`FLAT`, `PER_HOUR`,
/// `BLENDED_PER_HOUR`) and the create call the lowercase name (`flat`); all parse alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PricingType {
    /// One price for the whole work order.
    Flat,
    /// A rate per hour, up to a number of hours.
    PerHour,
    /// A price per unit, up to a number of units.
    PerUnit,
    /// An initial hourly rate for some hours, then an additional rate.
    BlendedPerHour,
    /// An initial unit price for some units, then an additional price.
    BlendedPerUnit,
    /// Internal work (the company's own employees): no worker payment.
    Internal,
    /// A type this version does not know, kept verbatim.
    Other(String),
}

impl PricingType {
    /// Reads any of WorkMarket's spellings, case-insensitively.
    pub fn parse(text: &str) -> Self {
        let words: Vec<String> = text
            .split(|c: char| c == '_' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["FLAT"] | ["FLAT", "FEE"] | ["FLAT", "PRICE"] => Self::Flat,
            ["PER", "HOUR"] | ["HOURLY"] => Self::PerHour,
            ["PER", "UNIT"] => Self::PerUnit,
            ["BLENDED", "PER", "HOUR"] | ["BLENDED"] => Self::BlendedPerHour,
            ["BLENDED", "PER", "UNIT"] => Self::BlendedPerUnit,
            ["INTERNAL", ..] => Self::Internal,
            _ => Self::Other(text.trim().to_owned()),
        }
    }

    /// The description form `/get` uses.
    pub fn description(&self) -> &str {
        match self {
            Self::Flat => "FLAT FEE",
            Self::PerHour => "PER HOUR",
            Self::PerUnit => "PER UNIT",
            Self::BlendedPerHour => "BLENDED PER HOUR",
            Self::BlendedPerUnit => "BLENDED PER UNIT",
            Self::Internal => "INTERNAL",
            Self::Other(text) => text,
        }
    }
}

impl fmt::Display for PricingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// A work order's pricing: its type, the amounts WorkMarket gives for that type, and the
/// budget. Amounts of other types are normally absent.
#[derive(Clone, Debug, PartialEq)]
pub struct Pricing {
    /// The pricing type.
    pub kind: PricingType,
    /// FLAT: the price (`flat_price`).
    pub flat_price: Option<Cents>,
    /// PER HOUR: the rate (`per_hour_price`).
    pub per_hour_price: Option<Cents>,
    /// PER HOUR: the most hours paid (`max_number_of_hours`).
    pub max_hours: Option<f64>,
    /// PER UNIT: the price of one unit (`per_unit_price`).
    pub per_unit_price: Option<Cents>,
    /// PER UNIT: the most units paid (`max_number_of_units`).
    pub max_units: Option<f64>,
    /// BLENDED PER HOUR: the rate for the first hours (`initial_per_hour_price`).
    pub initial_per_hour_price: Option<Cents>,
    /// BLENDED PER HOUR: how many hours the initial rate covers (`initial_number_of_hours`).
    pub initial_hours: Option<f64>,
    /// BLENDED PER HOUR: the rate after that (`additional_per_hour_price`).
    pub additional_per_hour_price: Option<Cents>,
    /// BLENDED PER HOUR: the most additional hours paid (`max_blended_number_of_hours`).
    pub max_additional_hours: Option<f64>,
    /// The budget: the most the work order may cost (`spend_limit`).
    pub spend_limit: Option<Cents>,
}

impl Pricing {
    /// Pricing of type `kind` with no amounts yet.
    pub fn new(kind: PricingType) -> Self {
        Self {
            kind,
            flat_price: None,
            per_hour_price: None,
            max_hours: None,
            per_unit_price: None,
            max_units: None,
            initial_per_hour_price: None,
            initial_hours: None,
            additional_per_hour_price: None,
            max_additional_hours: None,
            spend_limit: None,
        }
    }
}

/// Why a work order's pricing gives no 1099Policy wage.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// 1099Policy has no wage type for this pricing.
    #[error(
        "WorkMarket pricing {0} has no 1099Policy wage type (supported: FLAT FEE, PER HOUR, PER UNIT, BLENDED PER HOUR)"
    )]
    Unsupported(String),
    /// The amount the wage comes from is missing.
    #[error("WorkMarket pricing {pricing} gives no {field}, which the wage comes from")]
    MissingAmount {
        /// The pricing type.
        pricing: &'static str,
        /// The WorkMarket field that is missing.
        field: &'static str,
    },
    /// The amount is zero or negative, which no policy can insure.
    #[error("WorkMarket pricing {pricing} has {field} {amount}, which is not a positive wage")]
    NotPositive {
        /// The pricing type.
        pricing: &'static str,
        /// The WorkMarket field.
        field: &'static str,
        /// The offending amount, zero or negative.
        amount: Cents,
    },
}

/// The 1099Policy wage (`wage` in integer cents, `wage_type`) for a work order's pricing:
///
/// | WorkMarket pricing | wage | wage_type |
/// |---|---|---|
/// | FLAT FEE | `flat_price` | `flatfee` |
/// | PER HOUR | `per_hour_price` | `hourly` |
/// | PER UNIT | `per_unit_price` | `unit` |
/// | BLENDED PER HOUR | `initial_per_hour_price` (the rate the work starts at) | `blended` |
///
/// BLENDED PER UNIT, INTERNAL and unknown types are errors: 1099Policy's `blended` is an hourly
/// notion, and internal work pays no contractor. So is a missing or non-positive amount.
pub fn wage(pricing: &Pricing) -> Result<(Cents, WageType), PricingError> {
    let (amount, name, field, wage_type) = match &pricing.kind {
        PricingType::Flat => (pricing.flat_price, "FLAT FEE", "flat_price", WageType::Flatfee),
        PricingType::PerHour => (pricing.per_hour_price, "PER HOUR", "per_hour_price", WageType::Hourly),
        PricingType::PerUnit => (pricing.per_unit_price, "PER UNIT", "per_unit_price", WageType::Unit),
        PricingType::BlendedPerHour => {
            (pricing.initial_per_hour_price, "BLENDED PER HOUR", "initial_per_hour_price", WageType::Blended)
        }
        other => return Err(PricingError::Unsupported(other.description().to_owned())),
    };
    let amount = amount.ok_or(PricingError::MissingAmount { pricing: name, field })?;
    if amount.get() <= 0 {
        return Err(PricingError::NotPositive { pricing: name, field, amount });
    }
    Ok((amount, wage_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses() {
        for (text, kind) in [
            ("FLAT FEE", PricingType::Flat),
            ("FLAT", PricingType::Flat),
            ("flat", PricingType::Flat),
            ("PER HOUR", PricingType::PerHour),
            ("PER_HOUR", PricingType::PerHour),
            ("per_hour", PricingType::PerHour),
            ("PER UNIT", PricingType::PerUnit),
            ("PER_UNIT", PricingType::PerUnit),
            ("BLENDED PER HOUR", PricingType::BlendedPerHour),
            ("BLENDED_PER_HOUR", PricingType::BlendedPerHour),
            ("blended_per_hour", PricingType::BlendedPerHour),
            ("BLENDED PER UNIT", PricingType::BlendedPerUnit),
            ("BLENDED_PER_UNIT", PricingType::BlendedPerUnit),
            ("INTERNAL / LANE 1", PricingType::Internal),
            ("INTERNAL", PricingType::Internal),
            ("BARTER", PricingType::Other("BARTER".into())),
        ] {
            assert_eq!(PricingType::parse(text), kind, "{text}");
        }
    }

    fn priced(kind: PricingType, set: impl FnOnce(&mut Pricing)) -> Pricing {
        let mut pricing = Pricing::new(kind);
        set(&mut pricing);
        pricing
    }

    #[test]
    fn each_supported_type_maps_to_its_wage() {
        let flat = priced(PricingType::Flat, |p| {
            p.flat_price = Some(Cents(32500));
            p.spend_limit = Some(Cents(40000));
        });
        assert_eq!(wage(&flat), Ok((Cents(32500), WageType::Flatfee)));
        let hourly = priced(PricingType::PerHour, |p| {
            p.per_hour_price = Some(Cents(4550));
            p.max_hours = Some(8.0);
        });
        assert_eq!(wage(&hourly), Ok((Cents(4550), WageType::Hourly)));
        let unit = priced(PricingType::PerUnit, |p| p.per_unit_price = Some(Cents(1250)));
        assert_eq!(wage(&unit), Ok((Cents(1250), WageType::Unit)));
        let blended = priced(PricingType::BlendedPerHour, |p| {
            p.initial_per_hour_price = Some(Cents(6000));
            p.additional_per_hour_price = Some(Cents(4000));
        });
        assert_eq!(wage(&blended), Ok((Cents(6000), WageType::Blended)));
    }

    #[test]
    fn the_wage_comes_only_from_the_types_own_field() {
        // A flat price on an hourly work order is not the hourly rate.
        let hourly = priced(PricingType::PerHour, |p| p.flat_price = Some(Cents(100)));
        assert_eq!(wage(&hourly), Err(PricingError::MissingAmount { pricing: "PER HOUR", field: "per_hour_price" }));
    }

    #[test]
    fn unsupported_and_unusable_pricing_are_clear_errors() {
        for kind in [PricingType::BlendedPerUnit, PricingType::Internal, PricingType::Other("BARTER".into())] {
            let error = wage(&Pricing::new(kind)).unwrap_err();
            assert!(matches!(error, PricingError::Unsupported(_)));
            assert!(error.to_string().contains("no 1099Policy wage type"), "{error}");
        }
        let free = priced(PricingType::Flat, |p| p.flat_price = Some(Cents(0)));
        assert_eq!(
            wage(&free).unwrap_err().to_string(),
            "WorkMarket pricing FLAT FEE has flat_price $0.00, which is not a positive wage"
        );
    }
}
