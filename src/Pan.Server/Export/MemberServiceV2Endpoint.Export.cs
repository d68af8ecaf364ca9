using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Export;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>A Pan extension: the caller's data as one JSON document, behind an "export-data" step-up (<see cref="DataExport"/>).</summary>
    public override Task<ExportMyDataResponse> ExportMyData(ExportMyDataRequest request, ServerCallContext context) =>
        Resolve<DataExport>(context).ExportAsync(request, context.CancellationToken);
}
