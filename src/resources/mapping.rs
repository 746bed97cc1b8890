//! `CategoryMapping`: the GitOps-managed map from WorkMarket work categories to 1099Policy job
//! category codes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// Ordered rules that choose a 1099Policy job category code for a work order. The first rule
/// whose every given matcher matches wins; defaultCategoryCode applies when none does.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "coverbridge.io",
    version = "v1alpha1",
    kind = "CategoryMapping",
    namespaced,
    status = "CategoryMappingStatus",
    shortname = "catmap",
    category = "coverbridge",
    derive = "PartialEq",
    doc = "CategoryMapping maps WorkMarket work categories (industry, client, label) to 1099Policy job category codes. CoverageBindings in the same namespace use it through categoryMappingRef.",
    printcolumn(name = "Rules", type_ = "integer", json_path = ".status.ruleCount", description = "Number of rules"),
    printcolumn(
        name = "Valid",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Every code is known to and approved by 1099Policy"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct CategoryMappingSpec {
    /// Rules in order of precedence; the first rule whose every given matcher matches wins.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub rules: Vec<MappingRule>,

    /// Job category code (starting with "jc_") for work orders no rule matches. Without it, such
    /// work orders get a CategoryUnmapped condition and no 1099Policy job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^jc_[A-Za-z0-9]+$"))]
    pub default_category_code: Option<String>,
}

/// One mapping rule: a 1099Policy category code and the WorkMarket attributes that select it.
/// At least one matcher is required; all given matchers must match.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("has(self.industry) || has(self.industryId) || has(self.clientId) || has(self.label)")
    .message("each rule needs at least one matcher: industry, industryId, clientId or label"))]
#[serde(rename_all = "camelCase")]
pub struct MappingRule {
    /// 1099Policy job category code (starting with "jc_") this rule selects.
    #[schemars(regex(pattern = r"^jc_[A-Za-z0-9]+$"))]
    pub category_code: String,
    /// WorkMarket industry name, compared case-insensitively, e.g. "Technology".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub industry: Option<String>,
    /// WorkMarket industry id, e.g. 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_id: Option<i64>,
    /// WorkMarket client company id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<i64>,
    /// A label on the work order, by name, compared case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub label: Option<String>,
}

/// Observed state of a CategoryMapping.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CategoryMappingStatus {
    /// The metadata.generation this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready is True when every code in the mapping is known to and approved by 1099Policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Number of rules in the mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_count: Option<i32>,
    /// Codes that 1099Policy does not know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_codes: Vec<String>,
    /// Codes that 1099Policy knows but has not approved for this account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unapproved_codes: Vec<String>,
    /// Number of CoverageBindings that use this mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_count: Option<i32>,
}
