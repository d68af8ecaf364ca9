using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Pan.Data.Guests;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using PhoneFlowPhones = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.Guests;

/// <summary>
/// A texted activation code submitted while its send is still in flight: the SMS provider has delivered it, and Pan has
/// not yet heard back (so has not yet made the activation live). The inbox submits the code from inside its webhook
/// handler and answers only once the submission has answered or two seconds have passed.
/// </summary>
public abstract partial class GuestBehaviour<TFixture>
{
    private static readonly TimeSpan HoldOfTheAnswer = TimeSpan.FromSeconds(2);

    /// <remarks>With <paramref name="toTheOtherNode"/>, the code is submitted to another node on the same database.</remarks>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Activate_WithTheTextedCode_BeforeTheSendHasBeenAnswered_IsAcceptedOnceTheSendSucceeds(bool toTheOtherNode)
    {
        await using var other = toTheOtherNode ? await fixture.StartNodeWithAsync(new Dictionary<string, string?>()) : null;
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        var passwd = ApinodeClient.ClientHash();

        var (converted, submitted) = await ConvertWhileTheInboxSubmitsTheCodeAsync(temp.Token, national, e164, passwd, HttpStatusCode.OK, other);

        Assert.Equal(0, converted.Code);
        var activated = await submitted;
        Assert.Equal(0, activated.Code);
        Assert.Equal(temp.Id, activated.Id);
        Assert.Equal(0, (await SmsApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd })).Code);
    }

    /// <summary>The same, but the provider then answers the send as failed: the code must not activate, early or later.</summary>
    [Fact]
    public async Task Activate_WithTheTextedCode_BeforeASendThatThenFails_IsRefused_AndTheCodeStaysUnusable()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        var passwd = ApinodeClient.ClientHash();

        var (converted, submitted) = await ConvertWhileTheInboxSubmitsTheCodeAsync(temp.Token, national, e164, passwd, HttpStatusCode.InternalServerError);

        Assert.Equal(30, converted.Code);
        Assert.Equal(2, (await submitted).Code);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
        Assert.Equal(2, (await ActivateAsync($"{code}@{national}")).Code);
        Assert.False(await DbAsync(db => db.Set<GuestActivation>().AnyAsync(a => a.Uid == temp.Id)));
        Assert.Equal(4, (await SmsApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd })).Code);
    }

    /// <summary>
    /// The mailed link opened while Pan's step that makes the activation live is held (PostgreSQL: a write gate on that
    /// update; SQLite has one writer and nothing to hold, so there the link is opened after the conversion answered):
    /// the link is accepted once the step has gone through.
    /// </summary>
    [Fact]
    public async Task Activate_WithTheMailedLink_WhileItsActivationIsNotYetMadeLive_IsAcceptedOnceItIs()
    {
        var temp = await EmailApp.CreateTempAsync();
        var address = Mailboxes.NewAddress();
        var passwd = ApinodeClient.ClientHash();
        await using var gate = await WriteGate.CloseAsync(fixture.Server, fixture.Database, "guest_activations", TriggeredWrite.Update,
            $"OLD.uid = {temp.Id} AND NEW.expires <> OLD.expires");
        var converting = EmailApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = passwd }, temp.Token);
        var link = ActivationLink((await fixture.Smtp.WaitForMessageAsync(address)).TextBody);
        if (!gate.Holds)
        {
            await converting;
        }

        var activating = ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, link.PathAndQuery));
        if (gate.Holds)
        {
            await LockWaits.UntilAsync(fixture.Database, 1, converting);
            await Task.WhenAny(activating, Task.Delay(HoldOfTheAnswer));
            await gate.OpenAsync();
        }

        Assert.Equal(0, (await converting).Code);
        var activated = await activating;
        Assert.Equal(0, activated.Code);
        Assert.Equal(temp.Id, activated.Id);
    }

    private async Task<(ApinodeAnswer Converted, Task<ApinodeAnswer> Submitted)> ConvertWhileTheInboxSubmitsTheCodeAsync(
        string tempToken, string national, string e164, string passwd, HttpStatusCode answer, PanServer? submitTo = null)
    {
        Task<ApinodeAnswer>? submitted = null;
        fixture.Inbox.BeforeAnswering = async message =>
        {
            if (message.To == e164 && submitted is null)
            {
                var code = $"{SixDigits().Matches(message.Text)[^1].Value}@{national}";
                submitted = ApinodeClient.SendAsync((submitTo ?? fixture.Server).Http, new HttpRequestMessage(HttpMethod.Get, "/admin/user/activate/" + Uri.EscapeDataString(code)));
                await Task.WhenAny(submitted, Task.Delay(HoldOfTheAnswer));
            }

            return answer;
        };
        try
        {
            var converted = await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = passwd }, tempToken);
            return (converted, submitted ?? throw new Xunit.Sdk.XunitException("No code was texted."));
        }
        finally
        {
            fixture.Inbox.BeforeAnswering = null;
        }
    }

    [GeneratedRegex(@"\b\d{6}\b", RegexOptions.CultureInvariant)]
    private static partial Regex SixDigits();
}
