using Status = Pan.General.Member.MemberMigrationStatusResponse.Types.MigrationStatus;

namespace Pan.Server.Session;

/// <summary>
/// The stored <c>members.migration_status</c> values (the seed's MemberMigrationStatusResponse.MigrationStatus) and
/// how Pan reads them:
/// <list type="bullet">
/// <item>0 (unset) and STATUS_NEW_PAN (1): created in Pan through phone sign-up; 0 reads as STATUS_NEW_PAN, because
/// only the legacy import writes the other values.</item>
/// <item>STATUS_OLD_JKF (2), STATUS_OLD_1128 (3): imported from the legacy JKF or the older "1128" member store and
/// not yet migrated (set by the member import, which comes later).</item>
/// <item>STATUS_RETURNED_USER (4): a legacy member who signed in again and is going through migration.</item>
/// <item>STATUS_VALID_PAN (5): a legacy member whose migration finished; from then on an ordinary Pan member.</item>
/// <item>STATUS_VERIFY_PHONE (6): a legacy member who must verify a phone first (ValidatePhone / ValidatePhoneV2).</item>
/// </list>
/// </summary>
public static class MigrationStatuses
{
    public const int Unset = 0;
    public const int NewPan = (int)Status.StatusNewPan;
    public const int OldJkf = (int)Status.StatusOldJkf;
    public const int Old1128 = (int)Status.StatusOld1128;
    public const int ReturnedUser = (int)Status.StatusReturnedUser;
    public const int ValidPan = (int)Status.StatusValidPan;
    public const int VerifyPhone = (int)Status.StatusVerifyPhone;

    /// <summary>The status a client sees, or null when the stored value is not one the seed knows.</summary>
    public static Status? ToContract(int stored) => stored switch
    {
        Unset => Status.StatusNewPan,
        >= NewPan and <= VerifyPhone => (Status)stored,
        _ => null,
    };
}
