//! WorkMarket's two equivalent path families. The same controllers serve `/api/v1/…` (legacy
//! docs and samples) and `/v1/employer/…` (the published Swagger spec), so either works; which
//! one a given deployment still serves is unverified, hence the switch.

/// Which of WorkMarket's two equivalent path families to call.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathStyle {
    /// `/api/v1/…`, as the legacy docs and samples use.
    #[default]
    Api,
    /// `/v1/employer/…`, as the published Swagger spec uses.
    Employer,
}

impl PathStyle {
    /// Both styles, for serving every family.
    pub const ALL: [PathStyle; 2] = [PathStyle::Api, PathStyle::Employer];

    /// The prefix of every v1 path in this style, without a trailing slash.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Api => "/api/v1",
            Self::Employer => "/v1/employer",
        }
    }

    /// The path of `resource` (such as `assignments/get`) in this style.
    pub fn path(self, resource: &str) -> String {
        format!("{}/{resource}", self.prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_families() {
        assert_eq!(PathStyle::default(), PathStyle::Api);
        assert_eq!(PathStyle::Api.path("assignments/get"), "/api/v1/assignments/get");
        assert_eq!(PathStyle::Employer.path("authorization/request"), "/v1/employer/authorization/request");
    }
}
