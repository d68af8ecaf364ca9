using Google.Rpc;
using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Errors;

namespace Pan.Tests.Foundation;

public sealed class ErrorModelTests
{
    [Fact]
    public void SeedError_CarriesEnumNameAndNumber()
    {
        var ex = PanError.Of(ErrLogin.Types.General.CodeInvalid, StatusCode.InvalidArgument, "The code is wrong.");
        var info = ex.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("ErrLogin.CODE_INVALID", info.Reason);
        Assert.Equal("1003", info.Metadata["code"]);
        Assert.Equal("pan.general.member.ErrLogin.General", info.Metadata["enum"]);
    }

    [Fact]
    public void PendingAndInvalid_AreDistinguishable()
    {
        var pending = PanError.Of(ErrLogin.Types.General.CodePending, StatusCode.FailedPrecondition, "wait").GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal("ErrLogin.CODE_PENDING", pending.Reason);
        Assert.Equal("1005", pending.Metadata["code"]);
    }

    [Fact]
    public void DoublyNestedEnum_UsesItsMessagePath()
    {
        var ex = PanError.Of(Pan.General.Admin.ChangeMemberEmailResponse.Types.Error.Types.Value.EmailInUseInPan, StatusCode.AlreadyExists, "taken");
        Assert.Equal("ChangeMemberEmailResponse.Error.EmailInUseInPan", ex.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
    }

    [Fact]
    public void InvalidArgument_NamesEveryField()
    {
        var ex = PanError.InvalidArgument(new FieldViolation("phone", "not a phone number"), new FieldViolation("app_id", "unknown app"));
        var fields = ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Select(f => f.Field);
        Assert.Equal(["phone", "app_id"], fields);
        Assert.Contains("phone", ex.Status.Detail, StringComparison.Ordinal);
    }
}
