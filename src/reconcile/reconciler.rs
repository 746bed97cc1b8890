//! The reconcile loop: observe once, then decide → act → record one step at a time, saving the
//! status after every external write so each new id is recorded before the next step.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::act::act;
use super::conditions::{self, Desired, carried_over};
use super::error::ReconcileError;
use super::forecast::{Finding, Forecast, Severity, forecast};
use super::host::{Host, Notice};
use super::keys::attempt_of;
use super::observe::Observer;
use super::plan::{Context, Plan, Wait, plan};
use super::record::{record, record_coverage, transitions};
use super::steps::Step;
use crate::resources::{ConditionType, CoverageBinding, CoverageBindingStatus, Phase};
use crate::ten99policy::Ten99PolicyClient;
use crate::workmarket::WorkMarketClient;

/// What a suspended binding says in `Synced` (and `coverbridge plan` in its findings).
const SUSPENDED: &str = "spec.suspend is true: coverbridge makes no calls for this binding";

/// How long 1099Policy's category codes and entities are trusted by default.
pub const DEFAULT_LISTINGS_TTL: Duration = Duration::from_secs(300);

/// Operator-wide settings of the core.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Entity for bindings that name none.
    pub default_entity: Option<String>,
    /// Domain of proxy e-mail addresses for workers WorkMarket has none for.
    pub proxy_email_domain: Option<String>,
    /// How far in the future a coverage start must be for 1099Policy to accept it.
    pub effective_margin: SignedDuration,
    /// When nothing else changed, `status.lastSyncedAt` is rewritten at most this often.
    pub synced_refresh: Duration,
    /// Most steps in one reconcile (a guard against a loop; a full flow needs six).
    pub max_steps: usize,
    /// How long 1099Policy's category codes and entities are trusted once read.
    pub listings_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            default_entity: None,
            proxy_email_domain: None,
            effective_margin: SignedDuration::from_mins(10),
            synced_refresh: Duration::from_secs(600),
            max_steps: 12,
            listings_ttl: DEFAULT_LISTINGS_TTL,
        }
    }
}

/// What the runtime should do after a successful reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Next {
    /// Look again after this long; `None` means only on change (and the runtime's resync).
    pub requeue_after: Option<Duration>,
    /// The binding is being deleted and nothing is left to undo: the runtime may remove its
    /// finalizer.
    pub release: bool,
}

/// Reconciles CoverageBindings against WorkMarket and 1099Policy.
#[derive(Clone)]
pub struct Reconciler {
    observer: Observer,
    workmarket: WorkMarketClient,
    ten99policy: Ten99PolicyClient,
    settings: Settings,
    clock: fn() -> Timestamp,
}

impl Reconciler {
    /// A reconciler over the two clients.
    pub fn new(workmarket: WorkMarketClient, ten99policy: Ten99PolicyClient, settings: Settings) -> Self {
        Self {
            observer: Observer::new(
                workmarket.clone(),
                ten99policy.clone(),
                settings.listings_ttl,
                settings.default_entity.clone(),
            ),
            workmarket,
            ten99policy,
            settings,
            clock: Timestamp::now,
        }
    }

    /// The same reconciler reading time from `clock` (tests move time without sleeping).
    pub fn with_clock(mut self, clock: fn() -> Timestamp) -> Self {
        self.clock = clock;
        self
    }

    /// The 1099Policy client, for runtimes that need it (mappings).
    pub fn ten99policy(&self) -> &Ten99PolicyClient {
        &self.ten99policy
    }

    fn context(&self) -> Context {
        Context {
            now: (self.clock)(),
            default_entity: self.settings.default_entity.clone(),
            proxy_email_domain: self.settings.proxy_email_domain.clone(),
            workmarket_web_url: self.workmarket.work_order_url("").trim_end_matches("/assignments/details/").to_owned(),
            effective_margin: self.settings.effective_margin,
            listings_ttl: self.settings.listings_ttl,
        }
    }

    /// The status of a CategoryMapping used by `binding_count` bindings: its codes checked
    /// against 1099Policy's list, read afresh (a mapping changed) and kept for the bindings'
    /// own checks.
    pub async fn mapping_status(
        &self,
        mapping: &crate::resources::CategoryMapping,
        binding_count: usize,
    ) -> Result<crate::resources::CategoryMappingStatus, ReconcileError> {
        let known = self.observer.refresh_category_codes().await?;
        Ok(super::mapping::status(mapping, &known, binding_count, &Time((self.clock)())))
    }

    /// What the operator would do for `binding` from its current status, reading but never
    /// writing: the same observation and plan as [`Reconciler::reconcile`], each write's outcome
    /// assumed (see [`Forecast`]).
    pub async fn forecast(&self, binding: &CoverageBinding, host: &impl Host) -> Result<Forecast, ReconcileError> {
        let mut status = binding.status.clone().unwrap_or_default();
        let deleting = binding.metadata.deletion_timestamp.is_some();
        if binding.spec.suspend && !deleting {
            let phase = *status.phase.get_or_insert(Phase::Pending);
            let message = SUSPENDED.to_owned();
            let findings =
                vec![Finding { severity: Severity::Warning, reason: "Suspended".into(), message: message.clone() }];
            return Ok(Forecast { phase_now: phase, steps: Vec::new(), stops_in: phase, waits_for: message, findings });
        }
        let facts = if deleting {
            self.observer.observe_deleted(binding, &status).await?
        } else {
            self.observer.observe(binding, &status, host).await?
        };
        let uid = binding.metadata.uid.as_deref();
        let decide = |status: &mut CoverageBindingStatus, facts: &_| self.decide(binding, status, facts);
        forecast(&self.ten99policy, uid, status, facts, decide, self.settings.max_steps).await
    }

    /// Brings one binding as far as it can go now. A binding being deleted is brought to the
    /// end its deletion policy names; `Next::release` then says it may go.
    pub async fn reconcile(&self, binding: &CoverageBinding, host: &impl Host) -> Result<Next, ReconcileError> {
        let saved = binding.status.clone().unwrap_or_default();
        let deleting = binding.metadata.deletion_timestamp.is_some();
        if binding.spec.suspend && !deleting {
            return self.suspend(binding, host, saved).await;
        }
        let observed = if deleting {
            self.observer.observe_deleted(binding, &saved).await
        } else {
            self.observer.observe(binding, &saved, host).await
        };
        match observed {
            Ok(facts) => self.drive(binding, host, saved, facts).await,
            // Not known yet is not a failure: nothing to record, nobody to alarm.
            Err(error) if error.is_not_ready() => Err(error),
            Err(error) => Err(self.fail(binding, host, &saved, saved.clone(), None, error).await),
        }
    }

    async fn suspend(
        &self,
        binding: &CoverageBinding,
        host: &impl Host,
        saved: CoverageBindingStatus,
    ) -> Result<Next, ReconcileError> {
        let mut status = saved.clone();
        let suspended = Desired::no(ConditionType::Synced, "Suspended", SUSPENDED);
        self.settle(&mut status, None, binding.metadata.generation, Some(suspended));
        self.save(binding, host, &saved, &status).await?;
        Ok(Next { requeue_after: None, release: false })
    }

    /// Decide → act → record, one step at a time, saving after every write so each new id is
    /// in status before the next step. Each save already carries what the next decision makes
    /// of the new id (phase, conditions), so a reconcile that ends after a write saves once.
    async fn drive(
        &self,
        binding: &CoverageBinding,
        host: &impl Host,
        saved: CoverageBindingStatus,
        mut facts: super::facts::Facts,
    ) -> Result<Next, ReconcileError> {
        let uid = binding.metadata.uid.clone().unwrap_or_default();
        let mut status = saved.clone();
        let mut last_saved = saved;
        let mut plan = self.decide(binding, &mut status, &facts);
        for _ in 0..self.settings.max_steps {
            let Some(step) = plan.step.clone() else {
                self.save(binding, host, &last_saved, &status).await?;
                return Ok(Next { requeue_after: requeue(&plan), release: facts.deleting });
            };
            host.before_write(binding).await?;
            match act(&self.ten99policy, &uid, &step, attempt_of(&status, &step)).await {
                Ok(outcome) => {
                    let notice = record(outcome, &mut status, &mut facts);
                    status.create_attempts.remove(&step.kind());
                    plan = self.decide(binding, &mut status, &facts);
                    host.notify(binding, notice).await;
                    self.save(binding, host, &last_saved, &status).await?;
                    last_saved = status.clone();
                }
                Err(error) => return Err(self.fail(binding, host, &last_saved, status, Some(&step), error).await),
            }
        }
        tracing::warn!(binding = %binding.metadata.name.as_deref().unwrap_or_default(), "reconcile stopped after the step limit");
        Ok(Next { requeue_after: Some(Duration::from_secs(1)), release: false })
    }

    /// The plan for `status` and `facts`, with `status` settled to it (coverage, phase,
    /// conditions).
    fn decide(
        &self,
        binding: &CoverageBinding,
        status: &mut CoverageBindingStatus,
        facts: &super::facts::Facts,
    ) -> Plan {
        let plan = plan(&binding.spec, status, facts, &self.context());
        record_coverage(facts, status);
        let synced = plan.problem.as_ref().map(|p| Desired::no(ConditionType::Synced, p.reason, p.message.clone()));
        self.settle(status, Some(&plan), binding.metadata.generation, synced);
        plan
    }

    /// Sets phase, work order, conditions and observedGeneration from a plan (or, without one,
    /// keeps every condition but Synced); `synced` overrides the default `Synced=True`.
    fn settle(
        &self,
        status: &mut CoverageBindingStatus,
        plan: Option<&Plan>,
        generation: Option<i64>,
        synced: Option<Desired>,
    ) {
        let synced = synced.unwrap_or_else(|| {
            Desired::yes(
                ConditionType::Synced,
                "Synced",
                "WorkMarket and 1099Policy were read and agree with this status",
            )
        });
        let mut desired = match plan {
            Some(plan) => {
                status.phase = Some(plan.phase);
                if plan.work_order.is_some() {
                    status.work_order = plan.work_order.clone();
                }
                plan.conditions.clone()
            }
            None => carried_over(&status.conditions, &[ConditionType::Synced]),
        };
        desired.push(synced);
        self.set_conditions(status, desired, generation);
    }

    fn set_conditions(&self, status: &mut CoverageBindingStatus, desired: Vec<Desired>, generation: Option<i64>) {
        status.phase.get_or_insert(Phase::Pending);
        status.conditions = conditions::merge(&status.conditions, &desired, generation, &Time((self.clock)()));
        status.observed_generation = generation;
    }

    /// Saves `status` when it differs from `before` (ignoring lastSyncedAt, unless that is
    /// older than the refresh interval), and announces transitions.
    async fn save(
        &self,
        binding: &CoverageBinding,
        host: &impl Host,
        before: &CoverageBindingStatus,
        status: &CoverageBindingStatus,
    ) -> Result<(), ReconcileError> {
        let now = (self.clock)();
        let mut status = status.clone();
        let stale = before.last_synced_at.as_ref().is_none_or(|t| {
            now.duration_since(t.0) >= SignedDuration::try_from(self.settings.synced_refresh).unwrap_or_default()
        });
        status.last_synced_at = before.last_synced_at.clone();
        if status == *before && !stale {
            return Ok(());
        }
        status.last_synced_at = Some(Time(now));
        host.save_status(binding, &status).await?;
        for notice in transitions(before, &status) {
            host.notify(binding, notice).await;
        }
        Ok(())
    }

    /// Records a failed reconcile in status (and, for a create, that its key is spent), tells
    /// people, and hands the error back for the runtime's backoff. A terminal error while
    /// building coverage fails the binding until a person acts; a transient one, or one in a step
    /// coverage does not depend on (an invoice, say), leaves the phase alone.
    async fn fail(
        &self,
        binding: &CoverageBinding,
        host: &impl Host,
        before: &CoverageBindingStatus,
        mut status: CoverageBindingStatus,
        step: Option<&Step>,
        error: ReconcileError,
    ) -> ReconcileError {
        if let Some(step) = step.filter(|s| s.creates() && spends_key(&error)) {
            *status.create_attempts.entry(step.kind()).or_default() += 1;
        }
        let (category, message) = (error.category().as_str(), error.to_string());
        let fails_binding = !error.is_retryable() && step.is_none_or(Step::builds_coverage);
        let mut desired = if !fails_binding {
            carried_over(&status.conditions, &[ConditionType::Synced])
        } else {
            status.phase = Some(Phase::Failed);
            let mut kept = carried_over(&status.conditions, &[ConditionType::Synced, ConditionType::Ready]);
            kept.push(Desired::no(ConditionType::Ready, category, message.clone()));
            kept
        };
        desired.push(Desired::no(ConditionType::Synced, category, message.clone()));
        self.set_conditions(&mut status, desired, binding.metadata.generation);
        if let Err(save_error) = self.save(binding, host, before, &status).await {
            tracing::warn!(error = %save_error, "could not record a failed reconcile in status");
        }
        host.notify(binding, Notice::warning(category, message)).await;
        error
    }
}

/// Whether 1099Policy may have stored this failure under the key, so a retry needs a new one:
/// any answer it started executing (4xx other than 429, and 5xx). A lost connection or a 429 is
/// retried under the same key, which replays the first answer if there was one.
fn spends_key(error: &ReconcileError) -> bool {
    match error {
        ReconcileError::Ten99Policy { error: crate::ten99policy::Ten99PolicyError::Api { status, .. }, .. } => {
            status.as_u16() != 429
        }
        _ => false,
    }
}

fn requeue(plan: &Plan) -> Option<Duration> {
    match plan.wait {
        Wait::ForChange => None,
        Wait::Poll(every) => Some(every),
    }
}
