using Grpc.Core;
using Microsoft.Extensions.Options;
using Pan.Server.Email;
using Pan.Server.Links;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Email;

/// <summary>Links are built from the configured base URL; redirect targets must be on the allow-list.</summary>
public sealed class LinkBuilderTests
{
    private static readonly LinkBuilder Links = new(Options.Create(new LinksOptions
    {
        PublicBaseUrl = "https://id.example.com/pan/",
        AllowedRedirectHosts = ["app.example.com", "*.trusted.test", "例子.測試"],
    }));

    [Theory]
    [InlineData("https://app.example.com/done")]
    [InlineData("http://APP.example.com:8443/done?x=1#y")]
    [InlineData("https://a.trusted.test/")]
    [InlineData("https://deep.a.trusted.test/x")]
    [InlineData("https://例子.測試/ok")]
    [InlineData("https://xn--fsqu00a.xn--g6w251d/ok")]
    public void AllowedTargets_Pass(string target) => Assert.Equal(new Uri(target), Links.Redirect(target, "redirect"));

    [Theory]
    [InlineData("https://trusted.test/")]
    [InlineData("https://eviltrusted.test/")]
    [InlineData("https://app.example.com.evil.net/")]
    [InlineData("https://evil.net/?next=https://app.example.com")]
    [InlineData("https://user:pw@app.example.com/")]
    [InlineData("javascript://app.example.com/%0aalert(1)")]
    [InlineData("ftp://app.example.com/")]
    [InlineData("//app.example.com/")]
    [InlineData("/relative")]
    [InlineData("app.example.com")]
    public void OtherTargets_AreInvalidArgumentNamingTheField(string target)
    {
        var ex = Assert.Throws<RpcException>(() => Links.Redirect(target, "redirect_success"));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("redirect_success", ex.BadRequest()!.FieldViolations.Single().Field);
    }

    /// <summary>Open-redirect shapes that browsers read as another host than a naive check would, or as no host of ours.</summary>
    [Theory]
    [InlineData("//evil.net/")]
    [InlineData("///evil.net/")]
    [InlineData("https:evil.net")]
    [InlineData("https:/evil.net")]
    [InlineData(@"https:\\evil.net")]
    [InlineData(@"\\evil.net")]
    [InlineData(@"https://app.example.com\@evil.net")]
    [InlineData(@"https://evil.net\@app.example.com")]
    [InlineData("https://app.example.com@evil.net/")]
    [InlineData("https://app.example.com:443@evil.net/")]
    [InlineData("https://evil.net%2F@app.example.com/")]
    [InlineData("https://evil.net;@app.example.com/")]
    [InlineData("https://evil.net%2F%2F.app.example.com/")]
    [InlineData("https://evil.net%2Fapp.example.com/")]
    [InlineData("https://evil.net%23.a.trusted.test/")]
    [InlineData("https://evil.net\t.a.trusted.test/")]
    [InlineData("https://app.example.com./")]
    [InlineData("https://a.trusted.test./")]
    [InlineData("https://\u0430pp.example.com/")]
    [InlineData("https://xn--pp-8cd.example.com/")]
    [InlineData("HTTPS://EVIL.NET/APP.EXAMPLE.COM")]
    [InlineData("https://evil.net?.app.example.com")]
    [InlineData("https://evil.net#.app.example.com")]
    [InlineData("%2F%2Fevil.net")]
    [InlineData("/%2F/evil.net")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    public void HostileRedirectShapes_AreRefused(string target) => Assert.False(Links.TryRedirect(target, out _), target);

    [Theory]
    [InlineData("HTTPS://APP.EXAMPLE.COM/Done", "app.example.com")]
    [InlineData("https://\uFF41\uFF50\uFF50.example.com/", "app.example.com")]
    [InlineData("https://evil.net\u3002a.trusted.test/", "evil.net.a.trusted.test")]
    public void Spellings_ThatBrowsersReadAsAnAllowedHost_PassAsThatHost(string target, string host)
    {
        Assert.True(Links.TryRedirect(target, out var uri));
        Assert.Equal(host, uri!.IdnHost);
    }

    [Fact]
    public void ATargetWithALineBreak_IsOnlyEverHandedOnEscaped()
    {
        Assert.True(Links.TryRedirect("https://app.example.com/a\r\nSet-Cookie: x=1", out var uri));
        Assert.DoesNotContain('\r', uri!.AbsoluteUri);
        Assert.DoesNotContain('\n', uri.AbsoluteUri);
    }

    [Fact]
    public void TooLongTarget_IsRefused() =>
        Assert.False(Links.TryRedirect("https://app.example.com/" + new string('a', 2100), out _));

    [Fact]
    public void EmptyTarget_MeansNone() => Assert.Null(Links.Redirect("", "redirect"));

    [Fact]
    public void Pages_AreUnderTheBaseUrl_WithTheTokenEscaped() =>
        Assert.Equal("https://id.example.com/pan/account/verify-email?token=a-b_c%2B", Links.Page(PagePaths.VerifyEmail, "a-b_c+").AbsoluteUri);
}
