//! Small integer ids for everything that repeats across millions of devices.
//!
//! Strings (cohort names, versions, hardware versions) are interned once when a scenario is
//! loaded; the engine and the resolver only ever see these ids, so nothing per device per
//! tick hashes or allocates a string.

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl $name {
            /// The id as an index into the table that owns it.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// A software type (`main`, `main-fw`, …).
    SoftwareTypeId(u16)
);
id_type!(
    /// A cohort; `default` is always id 0.
    CohortId(u16)
);
id_type!(
    /// A hardware version string.
    HardwareId(u16)
);
id_type!(
    /// A project key.
    ProjectKeyId(u16)
);
id_type!(
    /// A team of users (R26).
    TeamId(u16)
);
id_type!(
    /// A user (R25, R26).
    UserId(u16)
);
id_type!(
    /// An interned software version of one software type.
    VersionId(u32)
);
id_type!(
    /// A Full or Delta release.
    ReleaseId(u32)
);
id_type!(
    /// A device's position in the fleet (its row).
    DeviceIdx(u32)
);
