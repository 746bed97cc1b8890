//! What the WorkMarket sandbox holds: workers, work orders, credentials, settings and a clock.

use std::collections::{BTreeMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::money::Cents;

/// A postal address, as a WorkMarket user would type it (names or codes).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxAddress {
    /// First line.
    #[serde(default)]
    pub line1: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State, such as "California" or "CA".
    #[serde(default)]
    pub state: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// Country, such as "USA" or "US".
    #[serde(default)]
    pub country: String,
}

/// A worker to create.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NewWorker {
    /// User number; the next free one when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail; WorkMarket does not always have one.
    #[serde(default)]
    pub email: Option<String>,
    /// Mobile number with country code, such as "+1 415 555 0101".
    #[serde(default)]
    pub phone: Option<String>,
    /// Address.
    #[serde(default)]
    pub address: SandboxAddress,
}

/// How a work order is priced. Amounts are integer cents; hours and units may be fractional.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PricingSpec {
    /// One price.
    Flat {
        /// The price.
        price: Cents,
    },
    /// A rate per hour.
    PerHour {
        /// The rate.
        rate: Cents,
        /// Most hours paid.
        max_hours: f64,
    },
    /// A price per unit.
    PerUnit {
        /// Price of one unit.
        price: Cents,
        /// Most units paid.
        max_units: f64,
    },
    /// An initial hourly rate, then an additional one.
    BlendedPerHour {
        /// Rate for the first hours.
        initial_rate: Cents,
        /// Hours at the initial rate.
        initial_hours: f64,
        /// Rate after that.
        additional_rate: Cents,
        /// Most additional hours.
        max_additional_hours: f64,
    },
    /// An initial unit price, then an additional one.
    BlendedPerUnit {
        /// Price of the first units.
        initial_price: Cents,
        /// Units at the initial price.
        initial_units: f64,
        /// Price after that.
        additional_price: Cents,
        /// Most additional units.
        max_additional_units: f64,
    },
    /// Internal work: no worker payment.
    Internal,
}

impl PricingSpec {
    /// `/get`'s `pricing.type`: the uppercased description.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Flat { .. } => "FLAT FEE",
            Self::PerHour { .. } => "PER HOUR",
            Self::PerUnit { .. } => "PER UNIT",
            Self::BlendedPerHour { .. } => "BLENDED PER HOUR",
            Self::BlendedPerUnit { .. } => "BLENDED PER UNIT",
            Self::Internal => "INTERNAL / LANE 1",
        }
    }

    /// The webhook `${pricing_type}`: the enum name.
    pub fn enum_name(&self) -> &'static str {
        match self {
            Self::Flat { .. } => "FLAT",
            Self::PerHour { .. } => "PER_HOUR",
            Self::PerUnit { .. } => "PER_UNIT",
            Self::BlendedPerHour { .. } => "BLENDED_PER_HOUR",
            Self::BlendedPerUnit { .. } => "BLENDED_PER_UNIT",
            Self::Internal => "INTERNAL",
        }
    }

    /// The most the work order can cost; `None` for internal work.
    pub fn spend_limit(&self) -> Option<Cents> {
        let times = |amount: Cents, count: f64| (amount.get() as f64 * count).round() as i64;
        Some(Cents(match *self {
            Self::Flat { price } => price.get(),
            Self::PerHour { rate, max_hours } => times(rate, max_hours),
            Self::PerUnit { price, max_units } => times(price, max_units),
            Self::BlendedPerHour { initial_rate, initial_hours, additional_rate, max_additional_hours } => {
                times(initial_rate, initial_hours).saturating_add(times(additional_rate, max_additional_hours))
            }
            Self::BlendedPerUnit { initial_price, initial_units, additional_price, max_additional_units } => {
                times(initial_price, initial_units).saturating_add(times(additional_price, max_additional_units))
            }
            Self::Internal => return None,
        }))
    }

    pub(crate) fn same_type(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// A work order to create.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct NewWorkOrder {
    /// Assignment number; the next free one when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Title (plain text; the API serves it HTML-escaped).
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Industry id (1000 Technology, 1001 Marketing, 1002 Construction in the seed).
    #[serde(default = "technology")]
    pub industry_id: i64,
    /// Client company id.
    #[serde(default)]
    pub client_id: Option<i64>,
    /// Project id.
    #[serde(default)]
    pub project_id: Option<i64>,
    /// Label names.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Pricing.
    pub pricing: PricingSpec,
    /// Where the work happens; `None` is offsite (virtual) work.
    #[serde(default)]
    pub location: Option<SandboxAddress>,
    /// Window start; two days from the sandbox clock's now when absent.
    #[serde(default)]
    pub window_start: Option<Timestamp>,
    /// Window end; a day after the start when absent.
    #[serde(default)]
    pub window_end: Option<Timestamp>,
    /// Whether the worker must check in before the work counts as in progress.
    #[serde(default = "yes")]
    pub check_in_required: bool,
    /// Send it to workers at once (status `sent`) instead of leaving a `draft`.
    #[serde(default = "yes")]
    pub send: bool,
}

fn technology() -> i64 {
    1000
}

fn yes() -> bool {
    true
}

impl NewWorkOrder {
    /// A sent, onsite-less work order with defaults for everything but title and pricing.
    pub fn new(title: impl Into<String>, pricing: PricingSpec) -> Self {
        Self {
            id: None,
            title: title.into(),
            description: String::new(),
            industry_id: technology(),
            client_id: None,
            project_id: None,
            labels: Vec::new(),
            pricing,
            location: None,
            window_start: None,
            window_end: None,
            check_in_required: true,
            send: true,
        }
    }
}

/// WorkMarket's internal status codes the sandbox moves through.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// `draft`
    Draft,
    /// `sent`
    Sent,
    /// `active`
    Active,
    /// `complete`
    Complete,
    /// `paymentPending`
    PaymentPending,
    /// `paid`
    Paid,
    /// `cancelled`
    Cancelled,
    /// `void`
    Void,
}

impl Status {
    /// The internal code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
            Self::Active => "active",
            Self::Complete => "complete",
            Self::PaymentPending => "paymentPending",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
            Self::Void => "void",
        }
    }

    /// The display name (`/statuses` and list rows).
    pub fn display(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Sent => "Sent",
            Self::Active => "Assigned",
            Self::Complete => "Pending Approval",
            Self::PaymentPending => "Payment Pending",
            Self::Paid => "Paid",
            Self::Cancelled => "Cancelled",
            Self::Void => "Void",
        }
    }
}

/// A worker in the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Worker {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: SandboxAddress,
}

/// A work order in the sandbox.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Order {
    pub id: String,
    pub title: String,
    pub description: String,
    pub industry_id: i64,
    pub client_id: Option<i64>,
    pub project_id: Option<i64>,
    pub labels: Vec<String>,
    pub pricing: PricingSpec,
    /// Spend limit when created, to report budget increases against.
    pub original_spend_limit: Option<Cents>,
    pub location: Option<SandboxAddress>,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub check_in_required: bool,
    pub status: Status,
    pub worker_id: Option<String>,
    pub checked_in_on: Option<Timestamp>,
    pub check_in_id: Option<u64>,
    pub resolution: Option<String>,
    pub total_cost: Option<Cents>,
    pub paid_on: Option<Timestamp>,
    pub created_on: Timestamp,
    pub last_modified_on: Timestamp,
    pub history: Vec<(Timestamp, String)>,
}

impl Order {
    /// `/get`'s status: `in_progress` for an active work order that has started.
    pub fn reported_status(&self, now: Timestamp) -> &'static str {
        let started = self.checked_in_on.is_some() || (!self.check_in_required && self.window_start <= now);
        if self.status == Status::Active && started { "in_progress" } else { self.status.code() }
    }

    /// Whether the status filter code `filter` (as `list` takes it) selects this work order.
    pub fn matches_filter(&self, filter: &str, now: Timestamp) -> bool {
        match filter {
            "inprogress" => self.reported_status(now) == "in_progress",
            "all" => true,
            code => self.status.code() == code,
        }
    }
}

/// Representation quirks of the real API the sandbox can switch, so clients are tested against
/// each variant the reference documents.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Quirks {
    /// List pages say `totalResults` (the spec) instead of `total_results` (the code).
    #[serde(default)]
    pub total_results_camel_case: bool,
    /// Logical errors list `{"message", "code"}` objects instead of plain strings.
    #[serde(default)]
    pub errors_as_objects: bool,
    /// `active_resource.address` says `address1` (legacy docs) instead of `address_1`.
    #[serde(default)]
    pub address_without_underscore: bool,
    /// `payment.paid_on` in seconds instead of the milliseconds WorkMarket's code passes through.
    #[serde(default)]
    pub paid_on_seconds: bool,
}

/// How webhook dates render (a company setting in WorkMarket).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// Unix seconds (WorkMarket's default).
    #[default]
    Unix,
    /// ISO 8601 in UTC with milliseconds, `2015-01-13T16:40:18.000Z`.
    Iso8601,
}

impl DateFormat {
    /// Renders `at` in this format.
    pub fn render(self, at: Timestamp) -> String {
        match self {
            Self::Unix => at.as_second().to_string(),
            Self::Iso8601 => at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        }
    }
}

/// Everything the sandbox knows, behind one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub api_token: String,
    pub api_secret: String,
    pub access_tokens: HashSet<String>,
    pub api_user_admin: bool,
    pub quirks: Quirks,
    pub date_format: DateFormat,
    pub clock_offset: SignedDuration,
    pub industries: BTreeMap<i64, String>,
    pub clients: BTreeMap<i64, String>,
    /// Boxed, as are work orders: B-tree nodes hold eleven values inline, often half empty.
    pub workers: BTreeMap<String, Box<Worker>>,
    pub orders: BTreeMap<String, Box<Order>>,
    pub next_worker_id: u64,
    pub next_order_id: u64,
    pub next_check_in_id: u64,
}

impl State {
    pub fn new(api_token: String, api_secret: String) -> Self {
        Self {
            api_token,
            api_secret,
            access_tokens: HashSet::new(),
            api_user_admin: true,
            quirks: Quirks::default(),
            date_format: DateFormat::default(),
            clock_offset: SignedDuration::ZERO,
            industries: BTreeMap::new(),
            clients: BTreeMap::new(),
            workers: BTreeMap::new(),
            orders: BTreeMap::new(),
            next_worker_id: 8_823_600,
            next_order_id: 6_029_117_000,
            next_check_in_id: 1,
        }
    }

    /// The sandbox clock: real time plus whatever a test advanced it by.
    pub fn now(&self) -> Timestamp {
        Timestamp::now().checked_add(self.clock_offset).expect("clock offset stays in range")
    }
}
