namespace Pan.Data.Guests;

/// <summary>
/// The apinode side of a member (the <c>guest_accounts</c> table): one row per member made by <c>admin/user/createTemp</c>.
/// While <see cref="Temporary"/> the member has no account name and no password; <c>convertTemp</c> gives it both
/// (keeping its uid and object_id) and, when the app asks for it, a pending activation.
/// </summary>
public sealed class GuestAccount
{
    /// <summary>The member (primary key; references members.uid). This is the apinode <c>id</c>.</summary>
    public long Uid { get; set; }

    /// <summary>The app that created the account (canonical app id).</summary>
    public string AppId { get; set; } = string.Empty;

    /// <summary>True from createTemp until convertTemp.</summary>
    public bool Temporary { get; set; } = true;

    /// <summary>"email", "mobile" or "name" once converted.</summary>
    public string? NameType { get; set; }

    /// <summary>The account name as it signs in (the trimmed email, the E.164 number or the plain name).</summary>
    public string? AccountName { get; set; }

    /// <summary>
    /// Uniqueness key of the account name, one namespace for all types: "e:" + lower-cased email, "m:" + E.164,
    /// "n:" + NFKC case-folded name. Unique; null while temporary or after deletion.
    /// </summary>
    public string? AccountKey { get; set; }

    /// <summary>The member's mobile number in E.164 (from <c>mobile</c> or a mobile account name).</summary>
    public string? MobileE164 { get; set; }

    /// <summary>True once an SMS activation proved the member holds <see cref="MobileE164"/>.</summary>
    public bool MobileVerified { get; set; }

    /// <summary>An email given to createTemp, kept until conversion (not unique, not on the member yet).</summary>
    public string? ContactEmail { get; set; }

    public string? FirstName { get; set; }

    public string? LastName { get; set; }

    public string? Address { get; set; }

    /// <summary>The client's <c>aux</c>: any JSON value, stored as its text.</summary>
    public string? Aux { get; set; }

    /// <summary>0 none, 1 email, 2 SMS: the activation scheme the account was converted under.</summary>
    public int ActScheme { get; set; }

    /// <summary>
    /// The Argon2id hash of the password while activation is pending. Why here and not in member_credentials: until the
    /// account is activated no sign-in path of Pan may accept the password, so it moves there only on activation.
    /// </summary>
    public string? PendingPasswordHash { get; set; }

    /// <summary>When the account became usable: conversion without activation, or the activation itself. Null while pending.</summary>
    public DateTimeOffset? Activated { get; set; }

    public DateTimeOffset Created { get; set; }

    /// <summary>The client address that called createTemp (for its per-address cap); erased with the member.</summary>
    public string? CreatedIp { get; set; }

    public DateTimeOffset? Converted { get; set; }
}
