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

    [Fact]
    public void TooLongTarget_IsRefused() =>
        Assert.False(Links.TryRedirect("https://app.example.com/" + new string('a', 2100), out _));

    [Fact]
    public void EmptyTarget_MeansNone() => Assert.Null(Links.Redirect("", "redirect"));

    [Fact]
    public void Pages_AreUnderTheBaseUrl_WithTheTokenEscaped() =>
        Assert.Equal("https://id.example.com/pan/account/verify-email?token=a-b_c%2B", Links.Page(PagePaths.VerifyEmail, "a-b_c+").AbsoluteUri);
}
