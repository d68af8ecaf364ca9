using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Pan.General.Admin;
using Pan.Server.Errors;
using Pan.Server.Phones;
using BlockError = Pan.General.Admin.BlockPhoneResponse.Types.Error.Types.Value;
using ListError = Pan.General.Admin.ListBlockedPhonesResponse.Types.Error.Types.Value;
using UnblockError = Pan.General.Admin.UnblockPhoneResponse.Types.Error.Types.Value;

namespace Pan.Server.Admin;

/// <summary>The admin API's phone blocks (a Pan extension, <see cref="PhoneBlocks.PhoneBlocks"/>).</summary>
public sealed partial class AdminEndpoint
{
    private static readonly string[] BlockListReaders = [AdminRoles.MemberAdmin, AdminRoles.Support];

    /// <summary>
    /// Pan extension. Role member-admin. Blocks the number until <c>expires</c> (absent: until unblocked), audited as
    /// admin.block-phone on <c>phone:</c> and the number. Errors: BlockPhoneResponse.Error; a bad phone, reason or
    /// expiry is INVALID_ARGUMENT naming it.
    /// </summary>
    public override async Task<BlockPhoneResponse> BlockPhone(BlockPhoneRequest request, ServerCallContext context)
    {
        var phone = Resolve<PhoneNumbers>(context).Parse(null, request.Phone);
        var blocks = Resolve<PhoneBlocks.PhoneBlocks>(context);
        await Resolve<AdminActions>(context).RunAsync(request.AdminToken, BlockError.NotAuthorized, BlockError.InternalError, MemberAdmin,
            "admin.block-phone", PhoneTarget(phone, request.Phone),
            async admin =>
            {
                var number = CheckedPhone(phone);
                if (PhoneBlocks.PhoneBlocks.CheckReason(request.Reason) is { } problem)
                {
                    throw PanError.InvalidArgument("reason", problem);
                }

                var expires = Instant(request.Expires, "expires");
                if (PhoneBlocks.PhoneBlocks.CheckExpiry(expires, Resolve<TimeProvider>(context).GetUtcNow()) is { } late)
                {
                    throw PanError.InvalidArgument("expires", late);
                }

                await blocks.BlockAsync(number, request.Reason, expires, admin.Email, context.CancellationToken);
            },
            context.CancellationToken);
        return new BlockPhoneResponse();
    }

    /// <summary>Pan extension. Role member-admin. Lifts the number's block. Errors: UnblockPhoneResponse.Error (NotBlocked: it had none).</summary>
    public override async Task<UnblockPhoneResponse> UnblockPhone(UnblockPhoneRequest request, ServerCallContext context)
    {
        var phone = Resolve<PhoneNumbers>(context).Parse(null, request.Phone);
        var blocks = Resolve<PhoneBlocks.PhoneBlocks>(context);
        await Resolve<AdminActions>(context).RunAsync(request.AdminToken, UnblockError.NotAuthorized, UnblockError.InternalError, MemberAdmin,
            "admin.unblock-phone", PhoneTarget(phone, request.Phone),
            async _ =>
            {
                if (!await blocks.UnblockAsync(CheckedPhone(phone), context.CancellationToken))
                {
                    throw PanError.Of(UnblockError.NotBlocked, StatusCode.NotFound, "This number is not blocked.");
                }
            },
            context.CancellationToken);
        return new UnblockPhoneResponse();
    }

    /// <summary>Pan extension. Role member-admin or support. The blocks that apply now, a page at a time. Errors: ListBlockedPhonesResponse.Error.</summary>
    public override async Task<ListBlockedPhonesResponse> ListBlockedPhones(ListBlockedPhonesRequest request, ServerCallContext context)
    {
        var response = new ListBlockedPhonesResponse();
        var blocks = Resolve<PhoneBlocks.PhoneBlocks>(context);
        await Resolve<AdminActions>(context).RunAsync(request.AdminToken, ListError.NotAuthorized, ListError.InternalError, BlockListReaders,
            "admin.list-blocked-phones", "page:" + Math.Max(request.Page, 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            async _ =>
            {
                if (request.Page < 0)
                {
                    throw PanError.InvalidArgument("page", "must be 1 or more (0 means 1)");
                }

                foreach (var block in await blocks.ListAsync(request.Page, context.CancellationToken))
                {
                    response.Phones.Add(new BlockedPhone
                    {
                        Phone = block.PhoneE164,
                        Reason = block.Reason,
                        BlockedBy = block.BlockedBy,
                        Created = Timestamp.FromDateTimeOffset(block.Created),
                        Expires = block.Expires is { } end ? Timestamp.FromDateTimeOffset(end) : null,
                    });
                }
            },
            context.CancellationToken);
        return response;
    }

    /// <summary>The number, or INVALID_ARGUMENT naming <c>phone</c>.</summary>
    private static PhoneNumber CheckedPhone(PhoneNumber? phone) =>
        phone ?? throw PanError.InvalidArgument("phone", "must be a valid phone number in E.164 (+ and the country calling code)");

    /// <summary>
    /// The audit target: the number in E.164, or what was sent (cut short, without its control characters) when it is not
    /// one. Why without them: PostgreSQL cannot store a NUL, and the attempt's audit line was lost with it.
    /// </summary>
    private static string PhoneTarget(PhoneNumber? phone, string given) =>
        Audit.AuditLog.Phone(phone?.E164 ?? new string((given.Length > PhoneNumbers.MaxValueLength ? given[..PhoneNumbers.MaxValueLength] : given).Where(c => !char.IsControl(c)).ToArray()));

    /// <summary>An optional instant of the request, or INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    private static DateTimeOffset? Instant(Timestamp? at, string field)
    {
        if (at is null)
        {
            return null;
        }

        // Why by hand: Timestamp.ToDateTimeOffset throws for seconds or nanos outside the well-known type's range.
        return at.Nanos is < 0 or > 999_999_999 || at.Seconds is < -62_135_596_800 or > 253_402_300_799
            ? throw PanError.InvalidArgument(field, "is not a valid instant")
            : at.ToDateTimeOffset();
    }
}
