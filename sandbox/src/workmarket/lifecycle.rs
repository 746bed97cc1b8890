//! Driving the sandbox: creating workers and work orders and moving work orders through
//! WorkMarket's lifecycle (reference §4.3). Each change fires its webhook event.

use axum::http::StatusCode;
use jiff::{Timestamp, ToSpan};

use super::WorkMarketSandbox;
use super::events;
use super::state::{NewWorkOrder, NewWorker, Order, PricingSpec, State, Status, Worker};
use super::webhooks::Values;
use crate::money::Cents;

/// A control request the sandbox refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    /// No such work order.
    #[error("no work order {0}")]
    UnknownWorkOrder(String),
    /// No such worker.
    #[error("no worker {0}")]
    UnknownWorker(String),
    /// The work order's status does not allow the action.
    #[error("work order {id} is {status}, so it cannot be {action}")]
    Conflict {
        /// The work order.
        id: String,
        /// Its status code.
        status: &'static str,
        /// The refused action, in past tense ("voided").
        action: &'static str,
    },
    /// The request itself is wrong.
    #[error("{0}")]
    Invalid(String),
}

impl SandboxError {
    /// The HTTP status the control API answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownWorkOrder(_) | Self::UnknownWorker(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
        }
    }
}

type Result<T> = std::result::Result<T, SandboxError>;

/// Adds a worker to `state`.
pub(crate) fn insert_worker(state: &mut State, new: NewWorker) -> Result<String> {
    if new.first_name.trim().is_empty() || new.last_name.trim().is_empty() {
        return Err(SandboxError::Invalid("a worker needs first and last names".into()));
    }
    let id = match new.id {
        Some(id) if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(SandboxError::Invalid(format!("worker id {id:?} is not a user number")));
        }
        Some(id) => id,
        None => loop {
            state.next_worker_id += 1;
            let id = state.next_worker_id.to_string();
            if !state.workers.contains_key(&id) {
                break id;
            }
        },
    };
    if state.workers.contains_key(&id) {
        return Err(SandboxError::Invalid(format!("worker {id} exists")));
    }
    let worker = Worker {
        id: id.clone(),
        first_name: new.first_name,
        last_name: new.last_name,
        email: new.email.filter(|e| !e.trim().is_empty()),
        phone: new.phone.filter(|p| !p.trim().is_empty()),
        address: new.address,
    };
    state.workers.insert(id.clone(), Box::new(worker));
    Ok(id)
}

/// Adds a work order to `state`.
pub(crate) fn insert_order(state: &mut State, new: NewWorkOrder, now: Timestamp) -> Result<String> {
    if new.title.trim().is_empty() {
        return Err(SandboxError::Invalid("a work order needs a title".into()));
    }
    if !state.industries.contains_key(&new.industry_id) {
        return Err(SandboxError::Invalid(format!(
            "no industry {}; add it first with POST /_sandbox/industries {{\"id\": {}, \"name\": …}}",
            new.industry_id, new.industry_id
        )));
    }
    let window_start = new.window_start.unwrap_or_else(|| now + 48.hours());
    let window_end = new.window_end.unwrap_or_else(|| window_start + 24.hours());
    if window_end < window_start {
        return Err(SandboxError::Invalid("the window ends before it starts".into()));
    }
    let id = match new.id {
        Some(id) if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(SandboxError::Invalid(format!("{id:?} is not an assignment number")));
        }
        Some(id) => id,
        None => loop {
            state.next_order_id += 1;
            let id = state.next_order_id.to_string();
            if !state.orders.contains_key(&id) {
                break id;
            }
        },
    };
    if state.orders.contains_key(&id) {
        return Err(SandboxError::Invalid(format!("work order {id} exists")));
    }
    let status = if new.send { Status::Sent } else { Status::Draft };
    let order = Order {
        id: id.clone(),
        title: new.title,
        description: new.description,
        industry_id: new.industry_id,
        client_id: new.client_id,
        project_id: new.project_id,
        labels: new.labels,
        original_spend_limit: new.pricing.spend_limit(),
        pricing: new.pricing,
        location: new.location,
        window_start,
        window_end,
        check_in_required: new.check_in_required,
        status,
        worker_id: None,
        checked_in_on: None,
        check_in_id: None,
        resolution: None,
        total_cost: None,
        paid_on: None,
        created_on: now,
        last_modified_on: now,
        history: vec![(now, format!("Created ({})", status.code()))],
    };
    state.orders.insert(id.clone(), Box::new(order));
    Ok(id)
}

const BEFORE_ASSIGNMENT: &[Status] = &[Status::Draft, Status::Sent];
const OPEN: &[Status] = &[Status::Draft, Status::Sent, Status::Active];

impl WorkMarketSandbox {
    /// Adds (or renames) an industry that work orders may name: `constants/industries` lists it.
    pub fn add_industry(&self, id: i64, name: &str) -> Result<()> {
        if name.trim().is_empty() {
            return Err(SandboxError::Invalid("an industry needs a name".into()));
        }
        self.lock().industries.insert(id, name.to_owned());
        Ok(())
    }

    /// Creates a worker; returns their user number.
    pub fn create_worker(&self, new: NewWorker) -> Result<String> {
        insert_worker(&mut self.lock(), new)
    }

    /// Creates a work order (sent, unless `new.send` is false); returns its assignment number.
    /// Fires Created, and Sent when sent.
    pub fn create_work_order(&self, new: NewWorkOrder) -> Result<String> {
        let send = new.send;
        let (id, created) = {
            let mut state = self.lock();
            let now = state.now();
            let id = insert_order(&mut state, new, now)?;
            let order = &state.orders[&id];
            (id, events::common(&state, order, now))
        };
        self.inner.webhooks.fire("Created", &id, &created);
        if send {
            self.inner.webhooks.fire("Sent", &id, &created);
        }
        Ok(id)
    }

    /// Routes a draft to workers (`sent`). Fires Sent.
    pub fn send(&self, id: &str) -> Result<()> {
        self.change(id, &[Status::Draft], "sent", "Sent", |order, _| {
            order.status = Status::Sent;
            Ok(Values::new())
        })
    }

    /// Assigns `worker_id` (`active`, `active_resource` set). Fires Accepted, with the worker.
    pub fn assign(&self, id: &str, worker_id: &str) -> Result<()> {
        if !self.lock().workers.contains_key(worker_id) {
            return Err(SandboxError::UnknownWorker(worker_id.to_owned()));
        }
        self.change(id, BEFORE_ASSIGNMENT, "assigned", "Accepted", |order, _| {
            order.status = Status::Active;
            order.worker_id = Some(worker_id.to_owned());
            Ok(Values::new())
        })
    }

    /// The worker checks in: `/get` reports `in_progress`. Fires Check In.
    pub fn check_in(&self, id: &str) -> Result<()> {
        let (check_in_id, date_format) = {
            let mut state = self.lock();
            state.next_check_in_id += 1;
            (state.next_check_in_id, state.date_format)
        };
        self.change(id, &[Status::Active], "checked in", "Check In", |order, now| {
            if order.checked_in_on.is_some() {
                return Err(SandboxError::Conflict {
                    id: order.id.clone(),
                    status: "in_progress",
                    action: "checked in",
                });
            }
            order.checked_in_on = Some(now);
            order.check_in_id = Some(check_in_id);
            Ok(Values::from([("check_in_out_id", check_in_id.to_string()), ("checked_in_on", date_format.render(now))]))
        })
    }

    /// The worker submits the work (`complete`, "Pending Approval"). Fires Completed.
    pub fn complete(&self, id: &str) -> Result<()> {
        self.change(id, &[Status::Active], "completed", "Completed", |order, _| {
            order.status = Status::Complete;
            order.resolution = Some("Work completed as described.".to_owned());
            Ok(Values::new())
        })
    }

    /// Approves the submitted work for payment (`paymentPending`). Fires Approved.
    pub fn approve(&self, id: &str) -> Result<()> {
        self.change(id, &[Status::Complete], "approved", "Approved", |order, _| {
            order.status = Status::PaymentPending;
            Ok(Values::new())
        })
    }

    /// Pays the invoice (`paid`), for `total` or else the spend limit. Fires Paid.
    pub fn pay(&self, id: &str, total: Option<Cents>) -> Result<()> {
        self.change(id, &[Status::PaymentPending], "paid", "Paid", |order, now| {
            order.status = Status::Paid;
            order.total_cost = total.or(order.pricing.spend_limit()).or(Some(Cents(0)));
            order.paid_on = Some(now);
            Ok(Values::new())
        })
    }

    /// Voids a work order nobody is assigned to (`void`). Fires Voided.
    pub fn void(&self, id: &str) -> Result<()> {
        self.change(id, BEFORE_ASSIGNMENT, "voided", "Voided", |order, _| {
            order.status = Status::Void;
            Ok(Values::new())
        })
    }

    /// Cancels an assigned work order (`cancelled`). Fires Cancel.
    pub fn cancel(&self, id: &str) -> Result<()> {
        self.change(id, &[Status::Active], "cancelled", "Cancel", |order, _| {
            order.status = Status::Cancelled;
            Ok(Values::new())
        })
    }

    /// Moves the window (a reschedule request, approved). Fires Reschedule Approved.
    pub fn reschedule(&self, id: &str, start: Timestamp, end: Timestamp) -> Result<()> {
        if end < start {
            return Err(SandboxError::Invalid("the window ends before it starts".into()));
        }
        self.change(id, OPEN, "rescheduled", "Reschedule Approved", |order, _| {
            order.window_start = start;
            order.window_end = end;
            Ok(Values::from([("negotiation_id", negotiation_id())]))
        })
    }

    /// Raises the budget to `pricing` (same type, no lower spend limit; a budget increase,
    /// approved). Fires Budget Increase Approved.
    pub fn increase_budget(&self, id: &str, pricing: PricingSpec) -> Result<()> {
        let event = "Budget Increase Approved";
        self.change(id, OPEN, "repriced", event, |order, _| {
            if !order.pricing.same_type(&pricing) {
                return Err(SandboxError::Invalid(format!(
                    "a budget increase keeps the pricing type {}",
                    order.pricing.description()
                )));
            }
            if pricing.spend_limit() < order.pricing.spend_limit() {
                return Err(SandboxError::Invalid("a budget increase cannot lower the budget".into()));
            }
            order.pricing = pricing.clone();
            Ok(Values::from([("negotiation_id", negotiation_id())]))
        })
    }

    /// Applies `apply` to work order `id` when its status is one of `allowed`, then fires
    /// `event` with the common variables, the worker's on Accepted, and `apply`'s own.
    fn change(
        &self,
        id: &str,
        allowed: &[Status],
        action: &'static str,
        event: &'static str,
        apply: impl FnOnce(&mut Order, Timestamp) -> Result<Values>,
    ) -> Result<()> {
        let values = {
            let mut state = self.lock();
            let now = state.now();
            let order = state.orders.get_mut(id).ok_or_else(|| SandboxError::UnknownWorkOrder(id.to_owned()))?;
            if !allowed.contains(&order.status) {
                return Err(SandboxError::Conflict { id: id.to_owned(), status: order.status.code(), action });
            }
            let own = apply(order, now)?;
            order.last_modified_on = now;
            order.history.push((now, event.to_owned()));
            let order = &state.orders[id];
            let mut values = events::common(&state, order, now);
            if event == "Accepted" {
                values.extend(events::worker(&state, order));
            }
            values.extend(own);
            values
        };
        self.inner.webhooks.fire(event, id, &values);
        Ok(())
    }
}

fn negotiation_id() -> String {
    fastrand::u32(100_000..999_999).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workmarket::WorkMarketSandboxConfig;

    fn empty() -> WorkMarketSandbox {
        let sandbox = WorkMarketSandbox::new(WorkMarketSandboxConfig { seed: false, ..Default::default() });
        sandbox.add_industry(1000, "Technology").unwrap();
        sandbox
    }

    fn flat(sandbox: &WorkMarketSandbox) -> String {
        sandbox.create_work_order(NewWorkOrder::new("Job", PricingSpec::Flat { price: Cents(10000) })).unwrap()
    }

    #[test]
    fn the_happy_path_moves_through_every_status() {
        let sandbox = empty();
        let worker = sandbox
            .create_worker(NewWorker {
                id: None,
                first_name: "A".into(),
                last_name: "B".into(),
                email: None,
                phone: None,
                address: Default::default(),
            })
            .unwrap();
        let id = flat(&sandbox);
        sandbox.assign(&id, &worker).unwrap();
        sandbox.check_in(&id).unwrap();
        let now = sandbox.now();
        assert_eq!(sandbox.lock().orders[&id].reported_status(now), "in_progress");
        sandbox.complete(&id).unwrap();
        sandbox.approve(&id).unwrap();
        sandbox.pay(&id, Some(Cents(12345))).unwrap();
        let state = sandbox.lock();
        assert_eq!(state.orders[&id].status, Status::Paid);
        assert_eq!(state.orders[&id].total_cost, Some(Cents(12345)));
    }

    #[test]
    fn wrong_moves_are_refused_with_reasons() {
        let sandbox = empty();
        let id = flat(&sandbox);
        assert_eq!(
            sandbox.cancel(&id).unwrap_err().to_string(),
            format!("work order {id} is sent, so it cannot be cancelled")
        );
        assert!(matches!(sandbox.assign(&id, "404"), Err(SandboxError::UnknownWorker(_))));
        assert!(matches!(sandbox.void("1"), Err(SandboxError::UnknownWorkOrder(_))));
        assert!(sandbox.increase_budget(&id, PricingSpec::Flat { price: Cents(5000) }).is_err());
        assert!(sandbox.increase_budget(&id, PricingSpec::PerHour { rate: Cents(5000), max_hours: 9.0 }).is_err());
        sandbox.increase_budget(&id, PricingSpec::Flat { price: Cents(15000) }).unwrap();
        sandbox.void(&id).unwrap();
        assert!(sandbox.void(&id).is_err());
    }
}
