//! What the platforms list for the whole account — 1099Policy's job category codes and
//! entities, WorkMarket's industries — read rarely and shared by every reconcile, so that a
//! binding can be checked against them before its first write at almost no cost per binding.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::error::{ReconcileError, Ten99Read};
use super::facts::Listing;
use super::mapping::KnownCode;
use crate::ten99policy::{ErrorCode, Ten99PolicyClient, Ten99PolicyError};
use crate::workmarket::{Industry, WorkMarketClient};

/// How long WorkMarket's industry list is trusted; industries almost never change.
const INDUSTRIES_TTL: Duration = Duration::from_secs(3600);

/// A value read from an API, trusted for `ttl` after it was read.
struct Expiring<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Expiring<T> {
    fn new(ttl: Duration) -> Self {
        Self { ttl, slot: Mutex::new(None) }
    }

    /// The value, read again by `fetch` when it is older than the TTL. Concurrent callers wait
    /// for one read instead of each making their own.
    async fn get<E, F>(&self, fetch: impl FnOnce() -> F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.get_within(self.ttl, fetch).await
    }

    /// The value, read again when it is older than `max_age` (or the TTL, if shorter).
    async fn get_within<E, F>(&self, max_age: Duration, fetch: impl FnOnce() -> F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, value)) = slot.as_ref()
            && at.elapsed() < max_age.min(self.ttl)
        {
            return Ok(value.clone());
        }
        let value = Arc::new(fetch().await?);
        *slot = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    async fn put(&self, value: T) {
        *self.slot.lock().await = Some((Instant::now(), Arc::new(value)));
    }
}

/// A code missing from the list (or not approved in it) may have just been added to a mapping
/// or approved: a list older than this is read again before the binding is held back.
const RECHECK_AFTER: Duration = Duration::from_secs(10);

/// The codes as 1099Policy lists them; `None` when it refuses to list them to this key (the
/// check is then skipped, not every binding failed).
type Codes = Option<Vec<KnownCode>>;

/// The account-wide lists, each cached for its own time.
pub(super) struct Listings {
    workmarket: WorkMarketClient,
    ten99policy: Ten99PolicyClient,
    industries: Expiring<Vec<Industry>>,
    codes: Expiring<Codes>,
    /// Entity ids looked up, with when and what 1099Policy said. Accounts have few entities.
    entities: Mutex<HashMap<String, (Instant, Listing)>>,
    ttl: Duration,
}

impl Listings {
    /// Lists read through the two clients; category codes and entities are trusted for `ttl`.
    pub(super) fn new(workmarket: WorkMarketClient, ten99policy: Ten99PolicyClient, ttl: Duration) -> Self {
        Self {
            workmarket,
            ten99policy,
            industries: Expiring::new(INDUSTRIES_TTL),
            codes: Expiring::new(ttl),
            entities: Mutex::default(),
            ttl,
        }
    }

    /// WorkMarket's industries, to resolve a work order's industry name to the id rules name.
    pub(super) async fn industries(&self) -> Result<Arc<Vec<Industry>>, ReconcileError> {
        Ok(self.industries.get(|| self.workmarket.list_industries()).await?)
    }

    /// Reads the category codes now (a mapping changed, so they are worth reading afresh) and
    /// keeps them for every binding's next check.
    pub(super) async fn refresh_category_codes(&self) -> Result<Arc<Vec<KnownCode>>, ReconcileError> {
        let codes = self.read_codes().await?;
        self.codes.put(Some(codes.clone())).await;
        Ok(Arc::new(codes))
    }

    async fn read_codes(&self) -> Result<Vec<KnownCode>, ReconcileError> {
        let codes =
            self.ten99policy.list_category_codes().await.map_err(ReconcileError::reading(Ten99Read::CategoryCodes))?;
        // 1099Policy does not always say; a code it lists without saying is usable.
        Ok(codes
            .into_iter()
            .map(|c| KnownCode { approved: c.approved.unwrap_or(true), code: c.category_code })
            .collect())
    }

    /// The codes, or `None` when 1099Policy refuses to list them (logged when read).
    async fn read_codes_or_unchecked(&self) -> Result<Codes, ReconcileError> {
        match self.read_codes().await {
            Ok(codes) => Ok(Some(codes)),
            Err(error) if !error.is_retryable() => {
                tracing::warn!(%error, "1099Policy refused to list its category codes; codes are not checked before writing");
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Where `code` stands in the account's list. One that is missing or not approved is looked
    /// up in a fresh list before it is believed.
    pub(super) async fn code(&self, code: &str) -> Result<Listing, ReconcileError> {
        let listing = standing(&*self.codes.get(|| self.read_codes_or_unchecked()).await?, code);
        if matches!(listing, Listing::Listed | Listing::Unchecked) {
            return Ok(listing);
        }
        Ok(standing(&*self.codes.get_within(RECHECK_AFTER, || self.read_codes_or_unchecked()).await?, code))
    }

    /// Whether 1099Policy knows the entity `id` (never [`Listing::NotApproved`]).
    pub(super) async fn entity(&self, id: &str) -> Result<Listing, ReconcileError> {
        let mut entities = self.entities.lock().await;
        if let Some((at, listing)) = entities.get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(*listing);
        }
        let listing = match self.ten99policy.get_entity(id).await {
            Ok(_) => Listing::Listed,
            Err(error) if names_no_entity(&error) => Listing::Unknown,
            Err(error) if !error.is_retryable() => {
                tracing::warn!(%error, entity = id, "1099Policy refused to show the entity; it is not checked before writing");
                Listing::Unchecked
            }
            Err(error) => return Err(ReconcileError::reading(Ten99Read::Entity)(error)),
        };
        entities.insert(id.to_owned(), (Instant::now(), listing));
        Ok(listing)
    }
}

fn standing(codes: &Codes, code: &str) -> Listing {
    let Some(codes) = codes else { return Listing::Unchecked };
    match codes.iter().find(|k| k.code == code) {
        None => Listing::Unknown,
        Some(k) if !k.approved => Listing::NotApproved,
        Some(_) => Listing::Listed,
    }
}

/// Whether 1099Policy's answer means there is no such entity (rather than "try again").
fn names_no_entity(error: &Ten99PolicyError) -> bool {
    matches!(error, Ten99PolicyError::Api { status, .. } if status.as_u16() == 404)
        || error.is(&ErrorCode::InvalidEntityId)
        || error.is(&ErrorCode::ResourceNotFound)
}
