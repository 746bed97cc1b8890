//! The typed work order `GET …/assignments/get` describes (reference §4.4 and §5.1), read
//! from WorkMarket's JSON.

use jiff::Timestamp;
use serde_json::Value;

use super::fields::Fields;
use super::{PricingType, WorkMarketError, WorkOrderStatus, geo};
use crate::money::Cents;

use super::pricing::Pricing;

/// A WorkMarket work order ("assignment").
#[derive(Clone, Debug, PartialEq)]
pub struct WorkOrder {
    /// The assignment number, such as `6029116324`.
    pub id: String,
    /// Title, HTML-unescaped.
    pub title: String,
    /// Description, HTML-unescaped.
    pub description: Option<String>,
    /// Status as `/get` reports it (`in_progress` once started).
    pub status: WorkOrderStatus,
    /// Industry name, such as "Technology".
    pub industry: Option<String>,
    /// Client company id (`client`); `None` when the work order has no client.
    pub client_id: Option<i64>,
    /// Project id (`project`); `None` when the work order is in no project.
    pub project_id: Option<i64>,
    /// Labels set on the work order.
    pub labels: Vec<Label>,
    /// When the work happens.
    pub schedule: Schedule,
    /// Where the work happens; `None` for offsite (virtual) work or no location.
    pub location: Option<Location>,
    /// True when the work has no location (virtual work).
    pub offsite: bool,
    /// Pricing type, amounts and budget.
    pub pricing: Pricing,
    /// What was paid.
    pub payment: Payment,
    /// The assigned worker (`active_resource`); `None` until someone is assigned.
    pub worker: Option<Worker>,
    /// When WorkMarket last changed the work order (`last_modified_on`): any new entry in its
    /// history, which is also what puts it in the change feed.
    pub last_modified: Option<Timestamp>,
}

/// A label on a work order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// WorkMarket's label id, as text (the API sends a number).
    pub id: Option<String>,
    /// Label name (WorkMarket's `description`, else its `code`).
    pub name: String,
}

/// A work order's schedule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Start of the window the work may happen in.
    pub window_start: Option<Timestamp>,
    /// End of that window.
    pub window_end: Option<Timestamp>,
    /// The appointment within the window, when one is set.
    pub scheduled_time: Option<Timestamp>,
    /// Time-zone id of the location, such as `America/Los_Angeles`.
    pub time_zone: Option<String>,
}

impl Schedule {
    /// When the work starts: the window start, else the appointment.
    pub fn start(&self) -> Option<Timestamp> {
        self.window_start.or(self.scheduled_time)
    }

    /// When the work ends: the window end, else the start.
    pub fn end(&self) -> Option<Timestamp> {
        self.window_end.or_else(|| self.start())
    }
}

/// A postal address as WorkMarket writes it; state and country may be names or codes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// First line (`address_1`, or the legacy `address1`).
    pub line1: Option<String>,
    /// Second line (`address_2`, or the legacy `address2`).
    pub line2: Option<String>,
    /// City, as written.
    pub city: Option<String>,
    /// State as written ("California", "CA").
    pub state: Option<String>,
    /// Postal code (`zip`, else `postal_code`).
    pub postal_code: Option<String>,
    /// Country as written ("USA", "United States", "US").
    pub country: Option<String>,
}

impl Address {
    /// The state as a 2-letter code; `None` when absent or not a known US state.
    pub fn state_code(&self) -> Option<&'static str> {
        geo::state_code(self.state.as_deref()?, self.country.as_deref())
    }

    /// The country as an ISO 3166 alpha-2 code; `None` when absent or unknown.
    pub fn country_code(&self) -> Option<&'static str> {
        geo::country_code(self.country.as_deref()?)
    }

    fn read(fields: &Fields) -> Result<Self, WorkMarketError> {
        // The legacy docs name the lines address1/address2; the spec and code address_1/_2.
        let line = |a: &str, b: &str| Ok::<_, WorkMarketError>(fields.text(a)?.or(fields.text(b)?));
        Ok(Self {
            line1: line("address_1", "address1")?,
            line2: line("address_2", "address2")?,
            city: fields.text("city")?,
            state: fields.text("state")?,
            postal_code: line("zip", "postal_code")?,
            country: fields.text("country")?,
        })
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Where a work order happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// WorkMarket's location id (`location.id`), as text.
    pub id: Option<String>,
    /// Location name as set in WorkMarket, e.g. "HQ".
    pub name: Option<String>,
    /// Address of the location (`address_1`, `city`, `state`, `zip`, …); may be empty.
    pub address: Address,
}

/// What was paid for a work order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payment {
    /// Final total cost (`payment.total_cost`).
    pub total_cost: Option<Cents>,
    /// When it was paid (`payment.paid_on`; milliseconds are recognised).
    pub paid_on: Option<Timestamp>,
}

/// The worker assigned to a work order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worker {
    /// WorkMarket user number, such as `8823578`.
    pub id: String,
    /// First name (`active_resource.first_name`).
    pub first_name: Option<String>,
    /// Last name (`active_resource.last_name`).
    pub last_name: Option<String>,
    /// E-mail; WorkMarket does not always have one.
    pub email: Option<String>,
    /// Phone numbers (`phone_numbers`), each with its country code prefixed.
    pub phones: Vec<Phone>,
    /// Home address (`active_resource.address`); `None` when WorkMarket has none.
    pub address: Option<Address>,
}

impl Worker {
    /// "First Last", or whichever part exists.
    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name].into_iter().flatten().map(String::as_str).collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The number to reach the worker on: mobile, else work, else the first one.
    pub fn phone(&self) -> Option<&Phone> {
        ["MOBILE", "WORK"]
            .iter()
            .find_map(|kind| {
                self.phones.iter().find(|p| p.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(kind)))
            })
            .or_else(|| self.phones.first())
    }
}

/// A phone number of a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone {
    /// The number with its country code, such as `+1 415 555 0101`.
    pub number: String,
    /// Extension, if any.
    pub extension: Option<String>,
    /// WORK, HOME, MOBILE or OTHER.
    pub kind: Option<String>,
}

impl Phone {
    fn read(fields: &Fields) -> Result<Option<Self>, WorkMarketError> {
        let Some(phone) = fields.text("phone")? else {
            return Ok(None);
        };
        let country: String =
            fields.text("country_code")?.unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
        let number = if phone.starts_with('+') || country.is_empty() { phone } else { format!("+{country} {phone}") };
        Ok(Some(Self { number, extension: fields.text("extension")?, kind: fields.text("type")? }))
    }
}

impl WorkOrder {
    /// Reads the `response` of `GET …/assignments/get`.
    pub(crate) fn from_json(response: &Value) -> Result<Self, WorkMarketError> {
        let f = Fields::object(response, "response")?;
        let location = match f.nested("location", "response.location")? {
            Some(loc) => {
                let address = Address::read(&loc)?;
                let id = loc.text("id")?;
                let name = loc.text("name")?;
                (!address.is_empty() || id.is_some()).then_some(Location { id, name, address })
            }
            None => None,
        };
        let offsite = f.boolean("location_offsite")?.unwrap_or(location.is_none());
        Ok(Self {
            id: f.required_text("id")?,
            title: f.html_text("title")?.unwrap_or_default(),
            description: f.html_text("description")?,
            status: WorkOrderStatus::parse(&f.required_text("status")?),
            industry: f.html_text("industry")?,
            client_id: f.integer("client")?,
            project_id: f.integer("project")?,
            labels: read_labels(&f)?,
            schedule: Schedule {
                window_start: f.timestamp("assignment_window_start")?,
                window_end: f.timestamp("assignment_window_end")?,
                scheduled_time: f.timestamp("scheduled_time")?,
                time_zone: f.text("time_zone")?,
            },
            location: if offsite { None } else { location },
            offsite,
            pricing: read_pricing(&f)?,
            payment: match f.nested("payment", "response.payment")? {
                Some(p) => Payment { total_cost: p.money("total_cost")?, paid_on: p.timestamp("paid_on")? },
                None => Payment::default(),
            },
            worker: read_worker(&f)?,
            last_modified: f.timestamp("last_modified_on")?,
        })
    }
}

fn read_labels(f: &Fields) -> Result<Vec<Label>, WorkMarketError> {
    let mut labels = Vec::new();
    for (i, value) in f.list("labels")?.iter().enumerate() {
        let path = format!("response.labels[{i}]");
        let label = Fields::object(value, &path)?;
        let name = label.html_text("description")?.or(label.text("code")?);
        if let Some(name) = name {
            labels.push(Label { id: label.text("id")?, name });
        }
    }
    Ok(labels)
}

fn read_pricing(f: &Fields) -> Result<Pricing, WorkMarketError> {
    let Some(p) = f.nested("pricing", "response.pricing")? else {
        return Err(WorkMarketError::invalid("response.pricing", "missing"));
    };
    let kind = PricingType::parse(&p.required_text("type")?);
    // Internal work has no budget: WorkMarket writes "Internal" where the amount would be.
    let spend_limit = match p.text("spend_limit")? {
        Some(text) if text.eq_ignore_ascii_case("internal") => None,
        _ => p.money("spend_limit")?,
    };
    Ok(Pricing {
        kind,
        flat_price: p.money("flat_price")?,
        per_hour_price: p.money("per_hour_price")?,
        max_hours: p.quantity("max_number_of_hours")?,
        per_unit_price: p.money("per_unit_price")?,
        max_units: p.quantity("max_number_of_units")?,
        initial_per_hour_price: p.money("initial_per_hour_price")?,
        initial_hours: p.quantity("initial_number_of_hours")?,
        additional_per_hour_price: p.money("additional_per_hour_price")?,
        max_additional_hours: p.quantity("max_blended_number_of_hours")?,
        spend_limit,
    })
}

fn read_worker(f: &Fields) -> Result<Option<Worker>, WorkMarketError> {
    let Some(w) = f.nested("active_resource", "response.active_resource")? else {
        return Ok(None);
    };
    let mut phones = Vec::new();
    for (i, value) in w.list("phone_numbers")?.iter().enumerate() {
        let path = format!("response.active_resource.phone_numbers[{i}]");
        phones.extend(Phone::read(&Fields::object(value, &path)?)?);
    }
    let address = match w.nested("address", "response.active_resource.address")? {
        Some(a) => Some(Address::read(&a)?).filter(|a| !a.is_empty()),
        None => None,
    };
    Ok(Some(Worker {
        id: w.required_text("id")?,
        first_name: w.text("first_name")?,
        last_name: w.text("last_name")?,
        email: w.text("email")?,
        phones,
        address,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({
            "id": "6029116324",
            "title": "Low Voltage Cabling &amp; Patching",
            "description": "Run &lt;Cat6&gt; to the closet",
            "status": "in_progress",
            "industry": "Technology",
            "client": 40211,
            "project": "77",
            "labels": [{"id": 5, "code": "brand", "description": "Brand ambassador"}],
            "assignment_window_start": 1764000000,
            "assignment_window_end": "1764086400",
            "scheduled_time": null,
            "time_zone": "America/Los_Angeles",
            "location": {"id": 9, "name": "HQ", "address_1": "1 Main St", "city": "San Jose",
                          "state": "CA", "zip": "95113", "country": "USA"},
            "location_offsite": false,
            "pricing": {"type": "FLAT FEE", "flat_price": 325.0, "spend_limit": "325.00",
                        "budget_increases": "0.0"},
            "payment": {"total_cost": "325.00", "paid_on": 1764172800000i64},
            "active_resource": {
                "id": "8823578", "first_name": "Alex", "last_name": "Nguyen",
                "email": "alex.nguyen@example.com",
                "phone_numbers": [{"country_code": "1", "phone": "415 555 0101", "type": "MOBILE"}],
                "address": {"address1": "100 Market St", "city": "San Francisco",
                            "state": "California", "zip": "94105", "country": "USA"}
            }
        })
    }

    #[test]
    fn reads_every_field() {
        let order = WorkOrder::from_json(&sample()).unwrap();
        assert_eq!(order.title, "Low Voltage Cabling & Patching");
        assert_eq!(order.description.as_deref(), Some("Run <Cat6> to the closet"));
        assert_eq!(order.status, WorkOrderStatus::InProgress);
        assert_eq!(order.client_id, Some(40211));
        assert_eq!(order.project_id, Some(77));
        assert_eq!(order.labels[0].name, "Brand ambassador");
        assert_eq!(order.schedule.window_end, Some(Timestamp::from_second(1764086400).unwrap()));
        let location = order.location.unwrap();
        assert_eq!(location.address.state_code(), Some("CA"));
        assert_eq!(location.address.country_code(), Some("US"));
        assert_eq!(order.pricing.flat_price, Some(Cents(32500)));
        assert_eq!(order.pricing.spend_limit, Some(Cents(32500)));
        assert_eq!(order.payment.paid_on, Some(Timestamp::from_second(1764172800).unwrap()));
        let worker = order.worker.unwrap();
        assert_eq!(worker.full_name().as_deref(), Some("Alex Nguyen"));
        assert_eq!(worker.phone().unwrap().number, "+1 415 555 0101");
        let address = worker.address.unwrap();
        assert_eq!(address.line1.as_deref(), Some("100 Market St"));
        assert_eq!(address.state_code(), Some("CA"));
    }

    #[test]
    fn unassigned_and_offsite() {
        let mut value = sample();
        value["active_resource"] = Value::Null;
        value["location"] = Value::Null;
        value["location_offsite"] = json!(true);
        let order = WorkOrder::from_json(&value).unwrap();
        assert!(order.worker.is_none());
        assert!(order.location.is_none());
        assert!(order.offsite);
    }

    #[test]
    fn a_malformed_amount_is_an_error_naming_it() {
        let mut value = sample();
        value["pricing"]["flat_price"] = json!("325.005");
        let error = WorkOrder::from_json(&value).unwrap_err();
        assert!(error.to_string().contains("response.pricing.flat_price"), "{error}");
    }

    #[test]
    fn internal_work_has_no_budget() {
        let mut value = sample();
        value["pricing"] = json!({"type": "INTERNAL / LANE 1", "spend_limit": "Internal"});
        let order = WorkOrder::from_json(&value).unwrap();
        assert_eq!(order.pricing.kind, PricingType::Internal);
        assert_eq!(order.pricing.spend_limit, None);
    }

    #[test]
    fn missing_identity_is_an_error() {
        let mut value = sample();
        value.as_object_mut().unwrap().remove("status");
        let error = WorkOrder::from_json(&value).unwrap_err();
        assert!(error.to_string().contains("response.status: missing"), "{error}");
    }
}
