//! WorkMarket's two equivalent path families (reference `workmarket-api.md`): `/api/v1/…` (the
//! legacy docs and samples) and `/v1/employer/…` (the published Swagger spec). The sandbox
//! serves both.

/// One of the two path families.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathStyle {
    /// `/api/v1/…`.
    #[default]
    Api,
    /// `/v1/employer/…`.
    Employer,
}

impl PathStyle {
    /// Both families.
    pub const ALL: [PathStyle; 2] = [PathStyle::Api, PathStyle::Employer];

    /// The prefix of every v1 path in this family, without a trailing slash.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Api => "/api/v1",
            Self::Employer => "/v1/employer",
        }
    }

    /// The path of `resource` (such as `assignments/get`) in this family.
    pub fn path(self, resource: &str) -> String {
        format!("{}/{resource}", self.prefix())
    }
}
