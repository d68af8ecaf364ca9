namespace Pan.Server.Guests;

/// <summary>The per-endpoint (positive) codes of the apinode user endpoints; see the README table.</summary>
public static class GuestCodes
{
    // convertTemp (1–5 and 10 as apinode; 6, 7, 11, 12, 20, 30 are Pan's additions). createTemp uses 4, 5, 6, 7 and 12.
    public const int MissingAccountName = 1;
    public const int MissingPassword = 2;
    public const int PasswordMismatch = 3;
    public const int MustBeEmail = 4;
    public const int MustBeMobile = 5;

    /// <summary>The mobile is a number an operator blocked (<see cref="PhoneBlocks.PhoneBlocks"/>).</summary>
    public const int PhoneBlocked = 7;
    public const int BadDisplayName = GuestProfileInput.BadDisplayName;
    public const int NameTaken = 10;
    public const int EmailTaken = 11;
    public const int DisplayNameTaken = GuestCreation.DisplayNameTaken;
    public const int TooManyTemporaryAccounts = 13;

    // createTemp (too many accounts), accNameOk and convertTemp (too many name look-ups) from one client address.
    public const int TooManyFromAddress = TooManyTemporaryAccounts;
    public const int NotTemporary = 20;
    public const int ActivationNotSent = 30;

    // login (1–3 as apinode; 4 is Pan's).
    public const int LoginFailed = 3;
    public const int NotActivated = 4;

    // deleteVerify (2 and 3 as login) and delete (1, 2); 21 on both.
    public const int MissingDelToken = 1;
    public const int DelTokenInvalid = 2;
    public const int HasPhone = 21;

    // activate.
    public const int MissingActivationCode = 1;
    public const int ActivationCodeInvalid = 2;
}
