using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Guests;
using Pan.Data.Members;
using Pan.Server.DisplayNames;
using Pan.Server.Members;
using Pan.Server.Network;
using Pan.Server.Sms;

namespace Pan.Server.Guests;

/// <summary>
/// <c>admin/user/createTemp</c>: a temporary account — an ordinary account (without a phone, like an imported member)
/// and its member, with no account name and no password — and a token valid <c>Pan:Guests:TempTokenDays</c>.
/// </summary>
public sealed class GuestCreation(
    PanDbContext db, MemberCreator creator, DisplayNameDirectory displayNames, AccountNames names, GuestTokens tokens,
    IOptions<GuestOptions> options, TimeProvider clock, ILogger<GuestCreation> logger, Metrics.PanMetrics metrics)
{
    /// <summary>Code 12: dspName is another member's display name.</summary>
    public const int DisplayNameTaken = 12;

    public async Task<ApinodeResult> CreateTempAsync(ApinodeRequest request, GuestApp app, CancellationToken cancellationToken)
    {
        var profile = GuestProfileInput.Read(request);
        var email = request.Text("email") is { } e
            ? names.Email(e)?.Value ?? throw new ApinodeException(GuestCodes.MustBeEmail, "email must be a valid email address.")
            : null;
        var mobile = request.Text("mobile") is { } m
            ? names.NewMobile(m)?.Value ?? throw new ApinodeException(GuestCodes.MustBeMobile, "mobile must be a valid mobile phone number.")
            : null;
        if (profile.DisplayName is { } taken && await displayNames.IsTakenAsync(taken, cancellationToken))
        {
            throw new ApinodeException(DisplayNameTaken, "The display name is already used.");
        }

        var now = clock.GetUtcNow();
        var ip = SmsKeys.Ip(ClientAddress.Of(request.Http));
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await CheckRateAsync(ip, now, cancellationToken);
        if (await PhoneBlocks.PhoneBlocks.IsBlockedAsync(db, mobile, now, cancellationToken))
        {
            throw new ApinodeException(GuestCodes.PhoneBlocked, PhoneBlocks.PhoneBlockedException.Text);
        }

        Member member;
        try
        {
            member = await creator.CreateAsync(new Account(), new Member
            {
                DisplayName = profile.DisplayName,
                DisplayNameKey = profile.DisplayName is null ? null : DisplayNameRules.Key(profile.DisplayName),
                IsOwner = true,
                MigrationStatus = 1,
                Locale = profile.Locale ?? app.Locale,
            }, cancellationToken);
        }
        catch (DbUpdateException ex) when (Data.DbErrors.IsUniqueViolation(ex))
        {
            // Why: a concurrent request took the display name between the check and the insert.
            throw new ApinodeException(DisplayNameTaken, "The display name is already used.");
        }

        db.Add(new GuestAccount
        {
            Uid = member.Uid,
            AppId = app.AppId,
            Temporary = true,
            ContactEmail = email,
            MobileE164 = mobile,
            FirstName = profile.FirstName,
            LastName = profile.LastName,
            Address = profile.Address,
            Aux = profile.Aux,
            Created = now,
            CreatedIp = ip,
        });
        await db.SaveChangesAsync(cancellationToken);
        var token = await tokens.IssueAsync(member.Uid, member.TokenGeneration, app.AppId, GuestTokens.TempKind, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        metrics.Registration("guest");
        logger.LogInformation("Created temporary member {Uid} for app {AppId}", member.Uid, app.AppId);
        return ApinodeResult.Ok(new GuestAccountValue(member.Uid, string.Empty, 0), token);
    }

    /// <summary>
    /// Code 13 when the address (an IPv6 address by its /64) already made <c>Pan:Guests:CreateTempPerIpPerHour</c>
    /// accounts in the last hour. Runs first in the creation's transaction, which holds the address's turn until it
    /// commits, so of parallel calls from one address no more than the cap get through.
    /// </summary>
    /// <remarks>
    /// Why a lock: a count read by parallel calls before any of them committed lets them all through. SQLite's
    /// transaction already holds the database's write lock (Microsoft.Data.Sqlite begins IMMEDIATE); on PostgreSQL a
    /// transaction-level advisory lock keyed by the address orders the calls of one address and no others.
    /// </remarks>
    private async Task CheckRateAsync(string? ip, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (ip is null)
        {
            return;
        }

        if (db.Database.IsNpgsql())
        {
            var key = "guest_create_ip:" + ip;
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({key}, 0))", cancellationToken);
        }

        var since = now.AddHours(-1);
        var count = await db.Set<GuestAccount>().CountAsync(g => g.CreatedIp == ip && g.Created > since, cancellationToken);
        if (count >= options.Value.CreateTempPerIpPerHour)
        {
            throw new ApinodeException(GuestCodes.TooManyTemporaryAccounts, "Too many temporary accounts from this address; try again later.");
        }
    }
}

/// <summary>The <c>value</c> of createTemp and convertTemp: <c>id</c> is the member's uid.</summary>
public sealed record GuestAccountValue(
    [property: System.Text.Json.Serialization.JsonPropertyName("id")] long Id,
    [property: System.Text.Json.Serialization.JsonPropertyName("actID")] string ActId,
    [property: System.Text.Json.Serialization.JsonPropertyName("actScheme")] int ActScheme);
