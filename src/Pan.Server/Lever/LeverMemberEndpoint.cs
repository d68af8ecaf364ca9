using Grpc.Core;
using Pan.Lever.Member;
using Pan.Server.Errors;
using Pan.Server.Network;
using Pan.Server.Sms;
using Pan.Server.Transport;

namespace Pan.Server.Lever;

/// <summary><c>pan.lever.member.MemberService</c>: internal calls from the family's own back ends.</summary>
/// <remarks>Every method first requires an internal API key (<see cref="InternalCallers"/>). AuthToken lives in HandOff/.</remarks>
[BindServiceMethod(typeof(GuardedBinding<MemberService.MemberServiceBase>), GuardedBinding.Method)]
public sealed partial class LeverMemberEndpoint : MemberService.MemberServiceBase
{
    /// <summary>Longest accepted text, in characters (Unicode code points).</summary>
    public const int MaxTextLength = 500;

    /// <summary>
    /// Sends <c>text</c> to the phone of the member <c>object_id</c> through the SMS gate. NOT_FOUND (ErrObject.NOT_FOUND)
    /// for an unknown or deleted member; RESOURCE_EXHAUSTED (SMS_LIMIT) when a cap blocks it; FAILED_PRECONDITION
    /// (SMS_NO_PHONE) for a live member without a phone (imported, guest, social login), (SMS_COUNTRY_NOT_ALLOWED) when
    /// the phone's country may not receive SMS, or (SMS_CANNOT_RECEIVE) when the stored number is no mobile (a landline,
    /// toll-free, …; checked by the SMS gate) or no longer a valid number; UNAVAILABLE when the provider is down.
    /// </summary>
    public override async Task<SendSMSResponse> SendSMS(SendSMSRequest request, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        http.RequestServices.GetRequiredService<InternalCallers>().Require(context);
        var (objectId, text) = Validate(request);

        var found = await http.RequestServices.GetRequiredService<MemberPhones>().FindAsync(objectId, context.CancellationToken)
            ?? throw PanError.Of(ErrObject.Types.General.NotFound, StatusCode.NotFound, "No such member.");
        // Why not NOT_FOUND: the member exists; a caller told "no such member" could take a live member for a deleted one.
        var phone = found switch
        {
            { HasPhone: false } => throw PanError.Plain(StatusCode.FailedPrecondition, "SMS_NO_PHONE", "The member has no phone to text."),
            { Phone: null } => throw PanError.Plain(StatusCode.FailedPrecondition, "SMS_CANNOT_RECEIVE",
                "The member's phone is not a number that can receive SMS."),
            { Phone: { } number } => number,
        };

        var gate = http.RequestServices.GetRequiredService<SmsGate>();
        var result = await gate.SendAsync(phone, text, SmsPurpose.Internal, ClientAddress.Of(http), context.CancellationToken);
        return result.Blocked switch
        {
            SmsBlockReason.None => new SendSMSResponse(),
            SmsBlockReason.CountryNotAllowed => throw PanError.Plain(StatusCode.FailedPrecondition, "SMS_COUNTRY_NOT_ALLOWED",
                "The member's phone is in a country that may not receive SMS."),
            SmsBlockReason.CannotReceiveSms => throw PanError.Plain(StatusCode.FailedPrecondition, "SMS_CANNOT_RECEIVE",
                "The member's phone is not a number that can receive SMS (not a mobile)."),
            SmsBlockReason.PhoneBlocked => throw new PhoneBlocks.PhoneBlockedException().ToRpcException(),
            _ => throw PanError.Plain(StatusCode.ResourceExhausted, "SMS_LIMIT", $"SMS limit reached ({result.Blocked}); try again later."),
        };
    }

    private static (Guid ObjectId, string Text) Validate(SendSMSRequest request)
    {
        var violations = new List<FieldViolation>();
        if (!Guid.TryParse(request.ObjectId, out var objectId) || objectId == Guid.Empty)
        {
            violations.Add(new FieldViolation("object_id", string.IsNullOrEmpty(request.ObjectId) ? "is required" : "must be a UUID"));
        }

        if (string.IsNullOrWhiteSpace(request.Text))
        {
            violations.Add(new FieldViolation("text", "is required"));
        }
        else if (request.Text.Length > 2 * MaxTextLength || request.Text.EnumerateRunes().Count() > MaxTextLength)
        {
            violations.Add(new FieldViolation("text", $"must be at most {MaxTextLength} characters"));
        }

        return violations.Count > 0 ? throw PanError.InvalidArgument([.. violations]) : (objectId, request.Text);
    }
}
