using Pan.General.Member;
using Pan.Server.Login;
using Phase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;

namespace Pan.Server.Pages.SignIn;

/// <summary>
/// /account/sign-in-email: sign-in with email (or display name) and password, for members who set them, through the
/// Login RPC's own EMAIL flow (<see cref="EmailLoginFlow"/>: failure counter, lock-out, lookup caps, captcha rule).
/// A member with a security question is asked for the answer (and the password again) on a second form; the question
/// itself is not shown, since nothing has been proved yet. An unknown email and a wrong password read alike.
/// </summary>
public static class EmailSignInPage
{
    public static IResult Get(HttpContext context) =>
        SignInPage.View(context, context.Request.Query[MemberCookie.ReturnUrlParameter]) is { } view
            ? view.EmailForm()
            : SignInPage.BadReturnUrl(context);

    public static async Task<IResult> PostAsync(HttpContext context)
    {
        var (form, view, refusal) = await SignInPage.ReadAsync(context);
        if (refusal is not null)
        {
            return refusal;
        }

        var identifier = form!["identifier"].ToString().Trim();
        var password = form["password"].ToString();
        var flow = form["flow"].ToString();
        if (identifier.Length == 0 || password.Length == 0)
        {
            return view!.EmailForm(view.Text.EmailWrong, StatusCodes.Status400BadRequest, identifier, flow.Length == 0 ? null : flow);
        }

        if (flow.Length > 0)
        {
            return await PasswordAsync(context, view!, identifier, flow, password, form["answer"].ToString(), withQuestion: true);
        }

        return await SignInPage.RunAsync(view!, context, new LoginRequest
        {
            Phase = Phase.CheckExistence,
            LoginType = LoginType.Email,
            PhaseCheckExistenceValue = identifier,
        }, started => started.PhaseCheckExistenceQuestion
            ? Task.FromResult(view!.EmailForm(identifier: identifier, flow: started.PhaseSessionToken))
            : PasswordAsync(context, view!, identifier, started.PhaseSessionToken, password, string.Empty, withQuestion: false),
        failure => view!.EmailForm(failure.Message, failure.Status, identifier), email: true);
    }

    private static Task<IResult> PasswordAsync(
        HttpContext context, SignInView view, string identifier, string flow, string password, string answer, bool withQuestion) =>
        SignInPage.RunAsync(view, context, new LoginRequest
        {
            Phase = Phase.InputCode,
            LoginType = LoginType.Email,
            PhaseSessionToken = flow,
            PhaseInputCodeValue = password,
            PhaseInputCodeQuesValue = answer,
        }, done => SignInPage.FinishAsync(context, view, done.PhaseDoneAuthToken, allowChoice: false),
        failure => withQuestion && !failure.FlowOver
            ? view.EmailForm(failure.Message, failure.Status, identifier, flow)
            : view.EmailForm(failure.Message, failure.Status, identifier),
        email: true);
}
