//! Auto-binding (opt-in): an accepted work order that no CoverageBinding covers gets one, named
//! `wo-<id>`, from a template in configuration. The name is the guard: when two deliveries or
//! two replicas race, the API server accepts the first create and refuses the rest as
//! AlreadyExists, so a work order never gets two bindings.

use std::collections::BTreeMap;
use std::path::Path;

use kube::api::{Api, ObjectMeta, PostParams};
use serde::Deserialize;

use crate::resources::{
    CategoryMappingRef, CoverageBinding, CoverageBindingSpec, CoverageType, DeletionPolicy, Trigger,
};
use crate::workmarket::{WorkMarketClient, WorkOrder, WorkOrderStatus};

/// The label every auto-created binding carries.
pub const AUTO_CREATED_LABEL: &str = "coverbridge.io/auto-created";

/// The auto-binding template (`COVERBRIDGE_AUTOBIND_CONFIG`).
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Template {
    /// Namespace the bindings are created in.
    pub namespace: String,
    /// 1099Policy entity; the operator's default when absent.
    #[serde(default)]
    pub entity: Option<String>,
    /// Coverage types every auto-created binding asks for (`coverageTypes`).
    pub coverage_types: Vec<CoverageType>,
    /// CategoryMapping to use (by name).
    #[serde(default)]
    pub category_mapping_ref: Option<String>,
    /// Category code to use directly.
    #[serde(default)]
    pub category_code: Option<String>,
    /// Trigger of the bindings (default Assigned).
    #[serde(default)]
    pub trigger: Trigger,
    /// Deletion policy of the bindings (default Orphan).
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Which work orders qualify.
    #[serde(default)]
    pub selector: Selector,
}

/// Which work orders get a binding: every list given must match; an empty list matches any.
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    /// Industry names (case-insensitive).
    #[serde(default)]
    pub industries: Vec<String>,
    /// WorkMarket client company ids.
    #[serde(default)]
    pub client_ids: Vec<i64>,
    /// Label names (case-insensitive); any one suffices.
    #[serde(default)]
    pub labels: Vec<String>,
}

impl Selector {
    /// Whether `order` qualifies.
    pub fn matches(&self, order: &WorkOrder) -> bool {
        let industry = self.industries.is_empty()
            || order
                .industry
                .as_deref()
                .is_some_and(|i| self.industries.iter().any(|want| want.eq_ignore_ascii_case(i)));
        let client = self.client_ids.is_empty() || order.client_id.is_some_and(|c| self.client_ids.contains(&c));
        let label = self.labels.is_empty()
            || order.labels.iter().any(|l| self.labels.iter().any(|want| want.eq_ignore_ascii_case(&l.name)));
        industry && client && label
    }
}

/// Why the template cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file cannot be read.
    #[error("cannot read the auto-binding template {path}: {source}")]
    Read {
        /// Path of the template file.
        path: String,
        /// The I/O error, e.g. not found or permission denied.
        source: std::io::Error,
    },
    /// The file is not a valid template.
    #[error("the auto-binding template {path} is invalid: {message}")]
    Invalid {
        /// Path of the template file.
        path: String,
        /// What is wrong, naming the field.
        message: String,
    },
}

impl Template {
    /// Reads and checks a template file.
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| TemplateError::Read { path: shown.clone(), source })?;
        Self::parse(&text).map_err(|message| TemplateError::Invalid { path: shown, message })
    }

    /// Parses and checks a template.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let template: Self =
            serde_path_to_error::deserialize(value).map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        if template.coverage_types.is_empty() {
            return Err("coverageTypes: at least one coverage type is required".into());
        }
        if template.category_mapping_ref.is_some() && template.category_code.is_some() {
            return Err("set either categoryMappingRef or categoryCode, not both".into());
        }
        if template.namespace.trim().is_empty() {
            return Err("namespace: required".into());
        }
        Ok(template)
    }

    /// The binding for work order `id`.
    pub fn binding(&self, id: &str) -> CoverageBinding {
        let name = format!("wo-{}", dns_label(id));
        let spec = CoverageBindingSpec {
            trigger: self.trigger,
            entity: self.entity.clone(),
            category_mapping_ref: self.category_mapping_ref.clone().map(|name| CategoryMappingRef { name }),
            category_code: self.category_code.clone(),
            deletion_policy: self.deletion_policy,
            ..CoverageBindingSpec::new(id, self.coverage_types.clone())
        };
        let labels = BTreeMap::from([
            (AUTO_CREATED_LABEL.to_owned(), "true".to_owned()),
            ("app.kubernetes.io/managed-by".to_owned(), "coverbridge".to_owned()),
        ]);
        let mut binding = CoverageBinding::new(&name, spec);
        binding.metadata = ObjectMeta {
            name: Some(name),
            namespace: Some(self.namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        };
        binding
    }
}

/// `id` as a DNS label: lowercase alphanumerics and dashes.
fn dns_label(id: &str) -> String {
    let label: String =
        id.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    label.trim_matches('-').chars().take(60).collect()
}

/// Creates bindings from the template for work orders that qualify.
#[derive(Clone)]
pub struct AutoBinder {
    template: Template,
    client: kube::Client,
    workmarket: WorkMarketClient,
}

/// What [`AutoBinder::consider`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Considered {
    /// Created the binding of this name.
    Created(String),
    /// The binding exists already (another delivery or replica made it).
    Exists(String),
    /// The work order is not assigned or does not match the selector.
    Skipped,
}

impl AutoBinder {
    /// An auto-binder creating bindings through `client`.
    pub fn new(template: Template, client: kube::Client, workmarket: WorkMarketClient) -> Self {
        Self { template, client, workmarket }
    }

    /// Reads work order `id` and, if it is assigned and matches the selector, creates its binding.
    pub async fn consider(&self, id: &str) -> Result<Considered, Box<dyn std::error::Error + Send + Sync>> {
        let order = self.workmarket.get_assignment(id).await?;
        let assigned = matches!(order.status, WorkOrderStatus::Active | WorkOrderStatus::InProgress);
        if !assigned || !self.template.selector.matches(&order) {
            return Ok(Considered::Skipped);
        }
        let binding = self.template.binding(id);
        let name = binding.metadata.name.clone().unwrap_or_default();
        let api: Api<CoverageBinding> = Api::namespaced(self.client.clone(), &self.template.namespace);
        match api
            .create(
                &PostParams { field_manager: Some(super::host::FIELD_MANAGER.into()), ..Default::default() },
                &binding,
            )
            .await
        {
            Ok(_) => {
                tracing::info!(work_order = id, binding = %name, "auto-created a binding");
                Ok(Considered::Created(name))
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Considered::Exists(name)),
            Err(error) => Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "namespace: coverage\ncoverageTypes: [general]\ncategoryMappingRef: default\nselector:\n  industries: [technology]\n  labels: [Insured, Urgent]\n";

    #[test]
    fn parses_the_documented_template() {
        let template = Template::parse(TEMPLATE).unwrap();
        assert_eq!(template.namespace, "coverage");
        assert_eq!(template.trigger, Trigger::Assigned);
        let binding = template.binding("6029116324");
        assert_eq!(binding.metadata.name.as_deref(), Some("wo-6029116324"));
        assert_eq!(binding.metadata.labels.unwrap()[AUTO_CREATED_LABEL], "true");
        assert_eq!(binding.spec.category_mapping_ref.unwrap().name, "default");
    }

    #[test]
    fn bad_templates_name_the_field() {
        let error = Template::parse("namespace: x\ncoverageTypes: [flood]\n").unwrap_err();
        assert!(error.contains("coverageTypes"), "{error}");
        let error = Template::parse("namespace: x\ncoverageTypes: [general]\nselectors: {}\n").unwrap_err();
        assert!(error.contains("selectors"), "{error}");
        let error =
            Template::parse("namespace: x\ncoverageTypes: [general]\ncategoryCode: jc_1\ncategoryMappingRef: m\n")
                .unwrap_err();
        assert!(error.contains("not both"), "{error}");
    }

    #[test]
    fn ids_become_dns_labels() {
        assert_eq!(dns_label("6029116324"), "6029116324");
        assert_eq!(dns_label("AB_12"), "ab-12");
    }
}
