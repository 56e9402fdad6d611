//! Activations and their governance (R6, R11, R19, R25, R26).

use super::{Catalog, CatalogError, Percent, Role};
use crate::ids::{CohortId, DeviceIdx, ReleaseId, TeamId, UserId};

/// How an activation makes its release available to a cohort.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Rollout {
    /// Available to every device of the cohort.
    Normal,
    /// Available only to the cohort's staged devices (R11 c); the percentage sized the
    /// staged set when it was set (R19).
    Staged(Percent),
}

/// Who performs a change.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An event without `by`: acts as a project manager.
    Anonymous,
    /// A declared user or token.
    User(UserId),
}

/// What the fleet must do after a catalog change; the catalog never touches devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// R19: resize the cohort's staged set to `percent` of its devices.
    ResizeStaged {
        /// The cohort whose staged set changes.
        cohort: CohortId,
        /// The new percentage.
        percent: Percent,
    },
    /// Set or clear a device's release override (R7 checked already).
    SetOverride {
        /// The device.
        device: DeviceIdx,
        /// The new override.
        release: Option<ReleaseId>,
    },
}

impl Catalog {
    fn actor_name(&self, actor: Actor) -> String {
        match actor {
            Actor::Anonymous => "an unnamed project manager".to_string(),
            Actor::User(u) => format!("user \"{}\"", self.user(u).name),
        }
    }

    /// R25: may `actor` change activations of `cohort`?
    fn check_may_change(&self, actor: Actor, cohort: CohortId) -> Result<(), CatalogError> {
        let c = self.cohort(cohort);
        if !c.protected {
            return Ok(());
        }
        let allowed = match actor {
            Actor::Anonymous => true,
            Actor::User(u) => matches!(
                self.user(u).role,
                Role::ProjectManager
                    | Role::OrgToken {
                        permit_protected: true
                    }
            ),
        };
        if allowed {
            Ok(())
        } else {
            Err(CatalogError::Invalid(format!(
                "{} may not change activations of protected cohort \"{}\" (R25: only project managers or permitted org tokens may)",
                self.actor_name(actor),
                c.name
            )))
        }
    }

    fn check_live(&self, release: ReleaseId) -> Result<(), CatalogError> {
        if self.release(release).deleted {
            return Err(CatalogError::Unknown {
                kind: "release",
                name: self.release_name(release),
                hint: " (it was deleted)".to_string(),
            });
        }
        Ok(())
    }

    fn apply_activation(
        &mut self,
        release: ReleaseId,
        cohort: CohortId,
        rollout: Rollout,
    ) -> Effect {
        let before = self.active.insert((release, cohort), rollout);
        // A new percentage of a staged rollout changes no answer (the resolver reads
        // only whether it is staged, R11); the staged set it resizes is the fleet's.
        if !matches!(
            (before, rollout),
            (Some(Rollout::Staged(_)), Rollout::Staged(_))
        ) {
            self.bump(Some(cohort));
        }
        match rollout {
            Rollout::Normal => Effect::None,
            Rollout::Staged(percent) => {
                self.staged_sized_by.insert(cohort, (release, percent));
                Effect::ResizeStaged { cohort, percent }
            }
        }
    }

    /// The staged activation (release and percentage) that last sized `cohort`'s staged
    /// set (R19), if any did; the set is shared by all its staged activations (R20).
    pub fn staged_set_sized_by(&self, cohort: CohortId) -> Option<(ReleaseId, Percent)> {
        self.staged_sized_by.get(&cohort).copied()
    }

    /// Makes `release` active in `cohort` as `rollout` without governance (R25, R26)
    /// and without touching the cohort's staged set: for what-if catalogs such as a
    /// delta plan (R28), whose planned deltas join the staged set already there (R20).
    /// Never used by the timeline.
    pub fn activate_what_if(&mut self, release: ReleaseId, cohort: CohortId, rollout: Rollout) {
        self.active.insert((release, cohort), rollout);
        self.bump(Some(cohort));
    }

    /// `activate`: makes `release` available to `cohort`, replacing the mode of an active
    /// activation; in a cohort that requires approval, files a request instead (R26).
    pub fn activate(
        &mut self,
        release: ReleaseId,
        cohort: CohortId,
        rollout: Rollout,
        actor: Actor,
    ) -> Result<Effect, CatalogError> {
        self.check_live(release)?;
        self.check_may_change(actor, cohort)?;
        if self.cohort(cohort).approval_team.is_some() {
            self.requests.insert((release, cohort), (rollout, actor));
            return Ok(Effect::None);
        }
        Ok(self.apply_activation(release, cohort, rollout))
    }

    /// `set_rollout`: changes the percentage of an active staged rollout (R19).
    pub fn set_rollout(
        &mut self,
        release: ReleaseId,
        cohort: CohortId,
        percent: Percent,
        actor: Actor,
    ) -> Result<Effect, CatalogError> {
        self.check_live(release)?;
        self.check_may_change(actor, cohort)?;
        match self.activation(release, cohort) {
            Some(Rollout::Staged(_)) => {
                Ok(self.apply_activation(release, cohort, Rollout::Staged(percent)))
            }
            Some(Rollout::Normal) => Err(CatalogError::Invalid(format!(
                "release {} is active in cohort \"{}\" as a normal activation, not a staged rollout",
                self.release_name(release),
                self.cohort(cohort).name
            ))),
            None => Err(self.not_active(release, cohort)),
        }
    }

    fn not_active(&self, release: ReleaseId, cohort: CohortId) -> CatalogError {
        CatalogError::Invalid(format!(
            "release {} has no active activation in cohort \"{}\"",
            self.release_name(release),
            self.cohort(cohort).name
        ))
    }

    /// `pull`: aborts the activation (or cancels a pending request).
    pub fn pull(
        &mut self,
        release: ReleaseId,
        cohort: CohortId,
        actor: Actor,
    ) -> Result<Effect, CatalogError> {
        self.check_live(release)?;
        self.check_may_change(actor, cohort)?;
        if self.active.remove(&(release, cohort)).is_some() {
            self.bump(Some(cohort));
            return Ok(Effect::None);
        }
        if self.requests.remove(&(release, cohort)).is_some() {
            return Ok(Effect::None);
        }
        Err(self.not_active(release, cohort))
    }

    /// `approve`: R26, a member of the cohort's approval team other than the requester
    /// (and a project manager, in a protected cohort) turns a request into an activation.
    pub fn approve(
        &mut self,
        release: ReleaseId,
        cohort: CohortId,
        user: UserId,
    ) -> Result<Effect, CatalogError> {
        self.check_live(release)?;
        let c = self.cohort(cohort);
        let Some(team) = c.approval_team else {
            return Err(CatalogError::Invalid(format!(
                "cohort \"{}\" does not require approval (it has no approval_team)",
                c.name
            )));
        };
        let Some(&(rollout, requester)) = self.requests.get(&(release, cohort)) else {
            return Err(CatalogError::Invalid(format!(
                "there is no pending activation request for release {} in cohort \"{}\"",
                self.release_name(release),
                c.name
            )));
        };
        let u = self.user(user);
        if !u.teams.contains(&team) {
            return Err(self.not_approver(user, team, "is not a member of approval team"));
        }
        if requester == Actor::User(user) {
            return Err(CatalogError::Invalid(format!(
                "user \"{}\" requested this activation and may not approve it (R26: the approver must be another member of team \"{}\")",
                u.name,
                self.team_name(team)
            )));
        }
        if c.protected && u.role != Role::ProjectManager {
            return Err(CatalogError::Invalid(format!(
                "user \"{}\" may not approve activations in protected cohort \"{}\" (R26: the approver must be a project manager)",
                u.name, c.name
            )));
        }
        self.requests.remove(&(release, cohort));
        Ok(self.apply_activation(release, cohort, rollout))
    }

    fn not_approver(&self, user: UserId, team: TeamId, why: &str) -> CatalogError {
        CatalogError::Invalid(format!(
            "user \"{}\" {why} \"{}\" (R26)",
            self.user(user).name,
            self.team_name(team)
        ))
    }

    /// `delete_release` (R6): only when every activation is pulled and no device holds
    /// the release as its override.
    pub fn delete_release(
        &mut self,
        release: ReleaseId,
        override_holders: usize,
    ) -> Result<Effect, CatalogError> {
        self.check_live(release)?;
        let mut unpulled: Vec<&str> = self
            .active
            .keys()
            .filter(|(r, _)| *r == release)
            .map(|(_, c)| self.cohort(*c).name.as_str())
            .collect();
        if !unpulled.is_empty() {
            unpulled.sort_unstable();
            let list: Vec<String> = unpulled.iter().map(|c| format!("\"{c}\"")).collect();
            return Err(CatalogError::Invalid(format!(
                "release {} cannot be deleted: its activations are not pulled in cohort(s) {} (R6)",
                self.release_name(release),
                list.join(", ")
            )));
        }
        if override_holders > 0 {
            return Err(CatalogError::Invalid(format!(
                "release {} cannot be deleted: {override_holders} device(s) hold it as their release override",
                self.release_name(release)
            )));
        }
        self.requests.retain(|(r, _), _| *r != release);
        self.releases[release.index()].deleted = true;
        self.bump(None);
        Ok(Effect::None)
    }

    /// `set_cohort`: changes a cohort's settings; `None` keeps a setting.
    pub fn set_cohort(
        &mut self,
        cohort: CohortId,
        disable_version_checking: Option<bool>,
        protected: Option<bool>,
        approval_team: Option<Option<TeamId>>,
    ) -> Effect {
        let c = &mut self.cohorts[cohort.index()];
        if let Some(v) = disable_version_checking {
            c.disable_version_checking = v;
        }
        if let Some(v) = protected {
            c.protected = v;
        }
        if let Some(v) = approval_team {
            c.approval_team = v;
        }
        self.bump(Some(cohort));
        Effect::None
    }

    /// `set_project_key`: sets or clears a key's OTA cohort override (R9).
    pub fn set_project_key(
        &mut self,
        key: crate::ids::ProjectKeyId,
        ota_cohort_override: Option<CohortId>,
    ) -> Effect {
        self.project_keys[key.index()].ota_cohort_override = ota_cohort_override;
        self.bump(None);
        Effect::None
    }
}
