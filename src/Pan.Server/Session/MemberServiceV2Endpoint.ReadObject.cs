using System.Globalization;
using Google.Protobuf.Collections;
using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Errors;
using Pan.Server.Session;
using PanObject = Pan.Atom.Member.Object;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>Most ids one ReadObject / UniversalReadObject call may ask for, per field.</summary>
    public const int MaxReadBatch = 100;

    private const int MaxKeywordLength = 64;

    /// <summary>
    /// Public data of live members by uid and/or object id, plus keyword. See <see cref="UniversalReadObject"/> for
    /// the rules; this is the same call without hash_ids.
    /// </summary>
    public override async Task<ReadObjectResponse> ReadObject(ReadObjectRequest request, ServerCallContext context)
    {
        var response = new ReadObjectResponse();
        response.Objects.AddRange(await ReadObjectsAsync(request.Uids, request.Uuids, hashIds: null, request.Keyword, context));
        return response;
    }

    /// <summary>
    /// Public data of live members by uids, object ids (uuids), hash_ids and/or a keyword. No token: this is a public
    /// read, so only the public view is returned (no phone, phone_id, email, activate_ip or can_new_child) and deleted
    /// members are never found.
    /// <list type="bullet">
    /// <item>keyword supports only hashids and uids: all digits is a uid, anything else a hash_id.</item>
    /// <item>Results come in request order (uids, uuids, hash_ids, keyword), each member once.</item>
    /// <item>A hash_id or keyword that does not decode is simply not found.</item>
    /// <item>ignore_dz has no effect: the legacy Discuz! forum store is not configured in Pan.</item>
    /// <item>Nothing to look up: INVALID_ARGUMENT ErrReadObject.GENERAL_UIDS_OR_UUIDS_REQUIRED. More than
    /// <see cref="MaxReadBatch"/> ids in a field, a uid below 1, a malformed uuid, a hash_id or keyword over 64
    /// characters: INVALID_ARGUMENT naming the field. No member found: NOT_FOUND ErrReadObject.GENERAL_NOT_FOUND_ANY.</item>
    /// </list>
    /// </summary>
    public override async Task<UniversalReadObjectResponse> UniversalReadObject(UniversalReadObjectRequest request, ServerCallContext context)
    {
        var response = new UniversalReadObjectResponse();
        response.Objects.AddRange(await ReadObjectsAsync(request.Uids, request.Uuids, request.HashIds, request.Keyword, context));
        return response;
    }

    private static async Task<List<PanObject>> ReadObjectsAsync(
        RepeatedField<long> uids, RepeatedField<string> uuids, RepeatedField<string>? hashIds, string keyword, ServerCallContext context)
    {
        keyword = keyword.Trim();
        if (uids.Count == 0 && uuids.Count == 0 && (hashIds?.Count ?? 0) == 0 && keyword.Length == 0)
        {
            throw PanError.Of(ErrReadObject.Types.General.UidsOrUuidsRequired, StatusCode.InvalidArgument,
                "Give uids, uuids, hash_ids or a keyword.", new FieldViolation("uids", "uids, uuids, hash_ids or keyword is required"));
        }

        CheckBatch("uids", uids.Count);
        CheckBatch("uuids", uuids.Count);
        CheckBatch("hash_ids", hashIds?.Count ?? 0);
        if (keyword.Length > MaxKeywordLength)
        {
            throw PanError.InvalidArgument("keyword", $"must be at most {MaxKeywordLength} characters");
        }

        // The wanted members in request order: a uid or an object id each.
        var wanted = new List<(long? Uid, Guid? ObjectId)>();
        foreach (var uid in uids)
        {
            wanted.Add(uid > 0 ? (uid, null) : throw PanError.InvalidArgument("uids", "every uid must be 1 or more"));
        }

        foreach (var uuid in uuids)
        {
            wanted.Add((null, ParseObjectId(uuid, "uuids")));
        }

        var hashUids = Resolve<HashUids>(context);
        foreach (var hashId in hashIds ?? [])
        {
            if (hashId.Length > MaxKeywordLength)
            {
                throw PanError.InvalidArgument("hash_ids", $"every hash_id must be at most {MaxKeywordLength} characters");
            }

            if (hashUids.Decode(hashId) is { } uid)
            {
                wanted.Add((uid, null));
            }
        }

        if (keyword.Length > 0 && KeywordUid(keyword, hashUids) is { } keywordUid)
        {
            wanted.Add((keywordUid, null));
        }

        var directory = Resolve<MemberDirectory>(context);
        var (wantedUids, objectIds) = Distinct(wanted);
        var result = new List<PanObject>(wantedUids.Length + objectIds.Count);
        if (objectIds.Count == 0)
        {
            // Why: the common call (uids only) is answered from the public-view copies and the public columns. The
            // distinct uids are the wanted ones in request order, each once.
            foreach (var view in await directory.PublicViewsAsync(wantedUids, context.CancellationToken))
            {
                if (view is not null)
                {
                    result.Add(view);
                }
            }
        }
        else
        {
            var members = await directory.ReadAsync(wantedUids, objectIds, context.CancellationToken);
            var byUid = members.ToDictionary(m => m.Uid);
            var byObjectId = members.ToDictionary(m => m.ObjectId);
            var mapper = Resolve<ObjectMapper>(context);
            var seen = new HashSet<long>();
            foreach (var (uid, objectId) in wanted)
            {
                var member = uid is { } u ? byUid.GetValueOrDefault(u) : byObjectId.GetValueOrDefault(objectId!.Value);
                if (member is not null && seen.Add(member.Uid))
                {
                    result.Add(mapper.ToObject(member, self: false));
                }
            }
        }

        return result.Count > 0
            ? result
            : throw PanError.Of(ErrReadObject.Types.General.NotFoundAny, StatusCode.NotFound, "None of the requested members exists.");
    }

    /// <summary>The wanted uids and object ids, each once, in request order.</summary>
    private static (long[] Uids, List<Guid> ObjectIds) Distinct(List<(long? Uid, Guid? ObjectId)> wanted)
    {
        var uids = new List<long>(wanted.Count);
        var objectIds = new List<Guid>();
        var seenUids = new HashSet<long>(wanted.Count);
        HashSet<Guid>? seenObjectIds = null;
        foreach (var (uid, objectId) in wanted)
        {
            if (uid is { } u)
            {
                if (seenUids.Add(u))
                {
                    uids.Add(u);
                }
            }
            else if ((seenObjectIds ??= []).Add(objectId!.Value))
            {
                objectIds.Add(objectId.Value);
            }
        }

        return ([.. uids], objectIds);
    }

    /// <summary>The keyword "supports only hashids and uids": all digits is a uid, anything else a hash_id.</summary>
    private static long? KeywordUid(string keyword, HashUids hashUids)
    {
        if (!keyword.All(char.IsAsciiDigit))
        {
            return hashUids.Decode(keyword);
        }

        return long.TryParse(keyword, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) && uid > 0 ? uid : null;
    }

    private static void CheckBatch(string field, int count)
    {
        if (count > MaxReadBatch)
        {
            throw PanError.InvalidArgument(field, $"at most {MaxReadBatch} per call");
        }
    }
}
