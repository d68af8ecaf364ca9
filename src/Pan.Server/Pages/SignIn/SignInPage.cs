using Grpc.Core;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Pan.General.Member;
using Pan.Server.Login;
using Phase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;

namespace Pan.Server.Pages.SignIn;

/// <summary>
/// /account/sign-in?returnUrl=…: sign-in by phone and SMS code through Pan's own login flow (<see cref="LoginFlow"/>,
/// so its SMS gate, caps, captcha rule, code rules and failure counter apply unchanged). GET shows the phone form (or,
/// when signed in, who is); POST sends the code; /account/sign-in-code takes the code (or asks for a new one); a phone
/// with several members then chooses one at /account/sign-in-member; /account/signed-in forwards to the returnUrl.
/// Every POST needs the antiforgery token.
/// </summary>
public static class SignInPage
{
    /// <summary>The forms are a few fields; anything bigger is refused before it is read.</summary>
    public const long MaxFormBytes = 32 * 1024;

    public static async Task<IResult> GetAsync(HttpContext context)
    {
        if (View(context, context.Request.Query[MemberCookie.ReturnUrlParameter]) is not { } view)
        {
            return BadReturnUrl(context);
        }

        // Why the form even when signed in, with prompt=login: /connect/authorize sends the browser here when the app asked
        // for a fresh sign-in, and only a new sign-in (a new cookie) satisfies it.
        if (context.Request.Query[MemberCookie.PromptParameter] != "login" && await MemberSignIn.CurrentAsync(context) is { } member)
        {
            var name = await context.RequestServices.GetRequiredService<MemberSignIn>().DisplayNameAsync(member.Uid, context.RequestAborted);
            return view.SignedIn(name ?? string.Empty, forward: false);
        }

        return view.PhoneForm();
    }

    public static async Task<IResult> PostPhoneAsync(HttpContext context)
    {
        var (form, view, refusal) = await ReadAsync(context);
        if (refusal is not null)
        {
            return refusal;
        }

        var countryCode = form!["country_code"].ToString();
        var phone = form["phone"].ToString();
        return await RunAsync(view!, context, new LoginRequest
        {
            Phase = Phase.CheckExistence,
            LoginType = LoginType.Phone,
            PhaseCheckExistenceCountryCode = countryCode,
            PhaseCheckExistenceValue = phone,
        }, response => Task.FromResult(view!.CodeForm(response.PhaseSessionToken)),
        failure => view!.PhoneForm(failure.Message, failure.Status, countryCode, phone));
    }

    public static async Task<IResult> PostCodeAsync(HttpContext context)
    {
        var (form, view, refusal) = await ReadAsync(context);
        if (refusal is not null)
        {
            return refusal;
        }

        var flow = form!["flow"].ToString();
        var resend = form["resend"] == "1";
        var code = form["code"].ToString().Trim();
        if (!resend && code.Length == 0)
        {
            return view!.CodeForm(flow, view.Text.CodeWrong, status: StatusCodes.Status400BadRequest);
        }

        return await RunAsync(view!, context, new LoginRequest
        {
            Phase = Phase.InputCode,
            LoginType = LoginType.Phone,
            PhaseSessionToken = flow,
            PhaseInputCodeValue = resend ? string.Empty : code,
        }, response => response.NextPhase == Phase.Done
            ? FinishAsync(context, view!, response.PhaseDoneAuthToken, allowChoice: true)
            : Task.FromResult(view!.CodeForm(flow, notice: view.Text.Resent)),
        failure => failure.FlowOver ? view!.PhoneForm(failure.Message, failure.Status) : view!.CodeForm(flow, failure.Message, status: failure.Status));
    }

    public static async Task<IResult> PostChoiceAsync(HttpContext context)
    {
        var (form, view, refusal) = await ReadAsync(context);
        if (refusal is not null)
        {
            return refusal;
        }

        var signIn = context.RequestServices.GetRequiredService<MemberSignIn>();
        try
        {
            return await signIn.ChooseAsync(context, form!["ticket"], form["member"], context.RequestAborted) is null
                ? view!.PhoneForm(view.Text.FlowExpired, StatusCodes.Status400BadRequest)
                : Forward(context, view!);
        }
        catch (Suspension.MemberSuspendedException)
        {
            return Suspended(view!);
        }
    }

    /// <summary>GET /account/signed-in: forwards a signed-in browser to its returnUrl (a page refresh, see <see cref="SignInView.SignedIn"/>).</summary>
    public static async Task<IResult> SignedInAsync(HttpContext context)
    {
        if (View(context, context.Request.Query[MemberCookie.ReturnUrlParameter]) is not { } view)
        {
            return BadReturnUrl(context);
        }

        if (await MemberSignIn.CurrentAsync(context) is not { } member)
        {
            return Redirect(context, view.Link(SignInPaths.SignInPage));
        }

        var name = await context.RequestServices.GetRequiredService<MemberSignIn>().DisplayNameAsync(member.Uid, context.RequestAborted);
        return view.SignedIn(name ?? string.Empty, forward: true);
    }

    public static async Task<IResult> PostSignOutAsync(HttpContext context)
    {
        var (_, view, refusal) = await ReadAsync(context);
        if (refusal is not null)
        {
            return refusal;
        }

        await context.RequestServices.GetRequiredService<MemberSignIn>().SignOutAsync(context, context.RequestAborted);
        return Redirect(context, view!.Link(SignInPaths.SignInPage));
    }

    /// <summary>Runs one step of the login flow; its errors become the page's messages.</summary>
    internal static async Task<IResult> RunAsync(
        SignInView view, HttpContext context, LoginRequest request, Func<LoginResponse, Task<IResult>> done, Func<LoginRefusal, IResult> failed, bool email = false)
    {
        LoginResponse response;
        try
        {
            response = await context.RequestServices.GetRequiredService<LoginFlow>().HandleAsync(request, context, context.RequestAborted);
        }
        catch (Suspension.MemberSuspendedException)
        {
            // Why a page of its own and not the form's message: the right code or password was given, so only the
            // member's holder reads this (the check follows the proof).
            return Suspended(view);
        }
        catch (PhoneBlocks.PhoneBlockedException)
        {
            // Why the phone form: no code went out and none will; blocking is not secret to the number's owner.
            return failed(new LoginRefusal(view.Text.PhoneBlocked, StatusCodes.Status403Forbidden, FlowOver: true));
        }
        catch (RpcException error)
        {
            return failed(LoginRefusals.From(error, view.Text, email));
        }
        catch (Exception error) when (LoginRefusals.IsOutage(error))
        {
            return failed(LoginRefusals.Unavailable(view.Text));
        }

        return await done(response);
    }

    /// <summary>Signs the browser in after the flow issued its auth token (or shows the member chooser), then forwards it.</summary>
    internal static async Task<IResult> FinishAsync(HttpContext context, SignInView view, string authToken, bool allowChoice)
    {
        var outcome = await context.RequestServices.GetRequiredService<MemberSignIn>().FinishAsync(context, authToken, allowChoice, context.RequestAborted);
        return outcome switch
        {
            null => view.PhoneForm(view.Text.Failed, StatusCodes.Status400BadRequest),
            { ChoiceTicket: { } ticket } => view.Chooser(ticket, outcome.Members),
            _ => Forward(context, view),
        };
    }

    /// <summary>Reads a POSTed form after checking its size, type and antiforgery token, and its returnUrl.</summary>
    internal static async Task<(IFormCollection? Form, SignInView? View, IResult? Refusal)> ReadAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFormBytes;
        }

        var language = PageLanguage.Of(context.Request);
        if (!context.Request.HasFormContentType
            || !await context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context))
        {
            var fresh = new SignInView(context, language, ReturnUrls.Default);
            return (null, null, fresh.PhoneForm(fresh.Text.FormExpired, StatusCodes.Status400BadRequest));
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        return View(context, form[MemberCookie.ReturnUrlParameter]) is { } view
            ? (form, view, null)
            : (null, null, BadReturnUrl(context));
    }

    internal static SignInView? View(HttpContext context, string? returnUrl) =>
        ReturnUrls.Of(returnUrl) is { } local ? new SignInView(context, PageLanguage.Of(context.Request), local) : null;

    /// <summary>The member the flow proved is suspended: a plain message, 403.</summary>
    internal static IResult Suspended(SignInView view) => view.Refused(view.Text.Suspended, StatusCodes.Status403Forbidden);

    internal static IResult BadReturnUrl(HttpContext context)
    {
        var view = new SignInView(context, PageLanguage.Of(context.Request), ReturnUrls.Default);
        return view.Refused(view.Text.ReturnUrlRefused, StatusCodes.Status400BadRequest);
    }

    private static IResult Forward(HttpContext context, SignInView view) => Redirect(context, view.Link(SignInPaths.SignedInPage));

    /// <summary>303 See Other to a page under /account (relative, so a proxy's path prefix is kept), with the pages' headers.</summary>
    private static IResult Redirect(HttpContext context, string location)
    {
        HtmlPage.ApplyHeaders(context);
        context.Response.Headers.Location = location;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }
}
