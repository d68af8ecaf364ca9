using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Member;
using Pan.Server.Avatars;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using SkiaSharp;

namespace Pan.Tests.Avatars;

/// <summary>UpdateAvatar, the /avatars route and Object.avatar, with real PNG and JPEG pictures drawn by SkiaSharp.</summary>
public abstract class AvatarBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, 640, 480)]
    [InlineData(SKEncodedImageFormat.Jpeg, 300, 500)]
    [InlineData(SKEncodedImageFormat.Webp, 2000, 1000)]
    public async Task AnUpload_IsCroppedToTheCentreAndStoredAt100And280Pixels(SKEncodedImageFormat format, int width, int height)
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);

        var url = (await UpdateAsync(token, Picture(format, width, height))).Avatar;

        var key = KeyOf(url);
        Assert.StartsWith(ExtrasFixture.PublicBaseUrl + "/avatars/", url, StringComparison.Ordinal);
        foreach (var size in new[] { 100, 280 })
        {
            using var stored = SKBitmap.Decode(Path.Combine(fixture.AvatarFolder, $"{key}-{size}.png"));
            Assert.Equal((size, size), (stored.Width, stored.Height));
            // The picture is green in its centred square and red outside it: the crop keeps only green (sampled off the
            // very edge, where resampling may blend in a neighbour).
            var (near, far) = (size / 10, size - 1 - (size / 10));
            foreach (var (x, y) in new[] { (near, near), (far, near), (near, far), (far, far), (size / 2, size / 2) })
            {
                var pixel = stored.GetPixel(x, y);
                Assert.True(pixel.Green > 200 && pixel.Red < 60, $"{format} {size}px at ({x},{y}) is {pixel}, expected green");
            }
        }

        var me = await Client.MeAsync(new MeRequest { AccessToken = token });
        Assert.Equal(url, me.User.Avatar);
    }

    [Fact]
    public async Task TheHttpRoute_ServesThePng_WithImmutableCaching_AndAnETag()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        var url = (await UpdateAsync(token, Picture(SKEncodedImageFormat.Png, 400, 400))).Avatar;
        var path = new Uri(url).AbsolutePath;

        using var response = await Server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.NonValidated["Cache-Control"].ToString());
        var etag = response.Headers.ETag ?? throw new Xunit.Sdk.XunitException("No ETag.");
        using var image = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((280, 280), (image.Width, image.Height));

        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await Server.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var small = await Server.Http.GetAsync(path.Replace("-280.png", "-100.png", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Theory]
    [InlineData("/avatars/00000000000000000000000000000000-280.png")]
    [InlineData("/avatars/00000000000000000000000000000000-281.png")]
    [InlineData("/avatars/not-a-key-280.png")]
    [InlineData("/avatars/..%2Fpan.db")]
    public async Task TheHttpRoute_AnswersNotFound_ForAnythingElse(string path)
    {
        using var response = await Server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ANewAvatar_ReplacesTheOld_WhoseFilesAreGone()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        var first = (await UpdateAsync(token, Picture(SKEncodedImageFormat.Png, 300, 300))).Avatar;
        var second = (await UpdateAsync(token, Picture(SKEncodedImageFormat.Jpeg, 300, 300))).Avatar;

        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.GetAsync(new Uri(first).AbsolutePath)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Server.Http.GetAsync(new Uri(second).AbsolutePath)).StatusCode);
    }

    [Fact]
    public async Task TheSamePictureAgain_WhileAnotherUploadReplacesIt_LeavesTheMemberWithAPictureThatIsServed()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var picture = Picture(SKEncodedImageFormat.Png, 200, 200);
        await UpdateAsync(token, picture);
        Task<UpdateAvatarResponse> other;
        Task<UpdateAvatarResponse> again;
        await using (var held = await DatabaseLock.HoldRowsAsync(fixture.Database, "members", $"uid = {member.Uid}"))
        {
            // Both uploads store their files, then wait to switch the member's avatar: the other picture first, then the
            // same picture once more (PostgreSQL lets the waiters through in the order they came; on SQLite the two run
            // once the lock is gone, in either order).
            // Why retried while busy: on SQLite the second starts at once, and while one decodes, the account's one decode
            // on the node answers the other AVATAR_BUSY, which a client retries.
            other = Task.Run(() => UpdateWhenNotBusyAsync(token, Picture(SKEncodedImageFormat.Jpeg, 200, 200)));
            await LockWaits.UntilAsync(fixture.Database, 1, other);
            again = Task.Run(() => UpdateWhenNotBusyAsync(token, picture));
            await LockWaits.UntilAsync(fixture.Database, 2, again);
        }

        var answers = await Task.WhenAll(other, again);

        var shown = (await Client.MeAsync(new MeRequest { AccessToken = token })).User.Avatar;
        Assert.Contains(shown, answers.Select(a => a.Avatar));
        Assert.Equal(HttpStatusCode.OK, (await Server.Http.GetAsync(new Uri(shown).AbsolutePath)).StatusCode);
    }

    [Fact]
    public async Task AnUploadWhoseSwitchKeepsLosingTheRace_IsAborted_AndLeavesNoFilesBehind()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var before = StoredFiles();

        // Every update of the member writes nothing, as when another change got there first each time.
        await using (await FailureTriggers.SkipAsync(Server, fixture.Database, "members", TriggeredWrite.Update, member.Uid))
        {
            await Errors.ExpectAsync(() => UpdateAsync(token, Picture(SKEncodedImageFormat.Png, 200, 200)), StatusCode.Aborted, "CONCURRENT_CHANGE");
        }

        Assert.Equal(before, StoredFiles());
    }

    [Fact]
    public async Task AnUploadCancelledWhileItWaitsToSwitch_LeavesNoFilesNoMemberPointsTo()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var before = StoredFiles();
        using var cancel = new CancellationTokenSource();
        await using (await DatabaseLock.HoldRowsAsync(fixture.Database, "members", $"uid = {member.Uid}"))
        {
            var upload = Client.UpdateAvatarAsync(
                new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(Picture(SKEncodedImageFormat.Png, 200, 200)) },
                cancellationToken: cancel.Token).ResponseAsync;
            // The files are saved; the switch waits for the member's row.
            await Eventually.HoldsAsync(() => upload.IsCompleted || StoredFiles().Count > before.Count);
            await LockWaits.UntilAsync(fixture.Database, 1, upload);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<RpcException>(() => upload);
            // PostgreSQL: the cancelled switch stops waiting before the row is let go.
            await LockWaits.UntilNoneAsync(fixture.Database);
        }

        // Either the switch was cancelled and its files went, or (SQLite may finish the waiting write) it went through.
        await Eventually.HoldsAsync(async () => StoredFiles().SetEquals(before.Union(FilesOf(await CurrentKeyAsync(member.Uid)))));
    }

    [Fact]
    public async Task RemoveAsync_RestoresTheDefault_AndDeletesTheFiles()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var url = (await UpdateAsync(token, Picture(SKEncodedImageFormat.Png, 200, 200))).Avatar;

        await using (var scope = Server.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<AvatarService>().RemoveAsync(member.Uid, default));
            Assert.False(await scope.ServiceProvider.GetRequiredService<AvatarService>().RemoveAsync(long.MaxValue, default));
        }

        Assert.Equal(string.Empty, (await Client.MeAsync(new MeRequest { AccessToken = token })).User.Avatar);
        Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.GetAsync(new Uri(url).AbsolutePath)).StatusCode);
    }

    [Fact]
    public async Task ANonImage_IsInvalidArgument_NamingAvatar()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        byte[][] uploads =
        [
            [],
            "<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray(),
            "%PDF-1.7 pretending to be avatar.png"u8.ToArray(),
            // A PNG signature followed by garbage: sniffing passes, decoding does not.
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. new byte[500]],
            // A real JPEG cut in half.
            Picture(SKEncodedImageFormat.Jpeg, 400, 400)[..600],
        ];
        foreach (var upload in uploads)
        {
            var ex = await Errors.ExpectAsync(() => UpdateAsync(token, upload), StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal("avatar", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        Assert.Empty(Directory.EnumerateFiles(fixture.AvatarFolder, "*.tmp"));
    }

    [Fact]
    public async Task AnOversizedFile_IsInvalidArgument_NamingAvatar_BeforeTheTokenIsLookedUp()
    {
        var oversized = new byte[(5 * 1024 * 1024) + 1];
        Picture(SKEncodedImageFormat.Png, 100, 100).CopyTo(oversized, 0);

        var ex = await Errors.ExpectAsync(() => UpdateAsync("not-even-a-token", oversized), StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("avatar", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    /// <summary>
    /// A progressive JPEG of very many scans (each a few bytes, each gone through block by block by the decoder) is
    /// refused by its markers before the token is looked up and before it takes a decode slot; one of 99 is a picture.
    /// </summary>
    [Fact]
    public async Task AJpegOfOver99Scans_IsInvalidArgument_NamingAvatar_BeforeTheTokenIsLookedUp()
    {
        var ex = await Errors.ExpectAsync(() => UpdateAsync("not-even-a-token", ProgressiveJpeg.Build(640, 480, 100)), StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        var violation = Assert.Single(ex.BadRequest()!.FieldViolations);
        Assert.Equal("avatar", violation.Field);
        Assert.Contains("scans", violation.Description, StringComparison.Ordinal);

        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        var url = (await UpdateAsync(token, ProgressiveJpeg.Build(640, 480, 99))).Avatar;
        Assert.Equal(HttpStatusCode.OK, (await Server.Http.GetAsync(new Uri(url).AbsolutePath)).StatusCode);
    }

    [Fact]
    public async Task APictureThatWouldDecodeToOver16Megapixels_IsInvalidArgument_ThoughItsFileIsSmall()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        // 20 megapixels (under the 25 MP cap) of one colour: a PNG of a few kilobytes that decodes to 80 MB.
        var png = SolidPng(5000, 4000);
        Assert.True(png.Length < 100_000, $"The PNG is {png.Length} bytes.");

        var ex = await Errors.ExpectAsync(() => UpdateAsync(token, png), StatusCode.InvalidArgument, "INVALID_ARGUMENT");

        Assert.Equal("avatar", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task AJpegOfMoreThan16Megapixels_IsAccepted_BeingDecodedAtAReducedScale()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        using var bitmap = new SKBitmap(new SKImageInfo(5000, 4000, SKColorType.Gray8, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(90, 90, 90));
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 50);

        var url = (await UpdateAsync(token, jpeg.ToArray())).Avatar;

        Assert.Equal(HttpStatusCode.OK, (await Server.Http.GetAsync(new Uri(url).AbsolutePath)).StatusCode);
    }

    [Fact]
    public async Task WhileEveryDecodeSlotIsTaken_AnUploadWaitsABoundedTime_ThenIsResourceExhausted()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?>
        {
            ["Pan:Avatars:MaxConcurrentDecodes"] = "1",
            ["Pan:Avatars:DecodeWaitMilliseconds"] = "1000",
        });
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var slots = node.Services.GetRequiredService<AvatarDecodeSlots>();

        Task<UpdateAvatarResponse> waiting;
        // Held as another member's upload, so it is the slot this member waits for.
        var held = await slots.EnterAsync((await TestMembers.CreateAsync(Server)).AccountId, default);
        try
        {
            await Errors.ExpectAsync(() => Upload(), StatusCode.ResourceExhausted, "AVATAR_BUSY");
            Assert.Equal(string.Empty, (await client.MeAsync(new MeRequest { AccessToken = token })).User.Avatar);

            // A slot freed within the wait lets a waiting upload through.
            waiting = Upload();
            await Task.Delay(200);
            Assert.False(waiting.IsCompleted);
        }
        finally
        {
            held.Dispose();
        }

        Assert.Equal((await waiting).Avatar, (await client.MeAsync(new MeRequest { AccessToken = token })).User.Avatar);

        Task<UpdateAvatarResponse> Upload() => client.UpdateAvatarAsync(new UpdateAvatarRequest
        {
            AccessToken = token,
            Avatar = ByteString.CopyFrom(Picture(SKEncodedImageFormat.Png, 100, 100)),
        }).ResponseAsync;
    }

    /// <summary>
    /// One phone account decodes one upload at a time on a node: while one of its uploads holds a decode slot, another
    /// upload of the account (the same member signed in again, or another member of its phone) is AVATAR_BUSY at once,
    /// without waiting for or taking a slot, so the account cannot hold every slot and another member still gets one.
    /// </summary>
    [Fact]
    public async Task WhileAnUploadOfTheAccountHoldsASlot_ItsNextUploadIsBusyAtOnce_AndAnotherMemberStillGetsASlot()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?>
        {
            ["Pan:Avatars:MaxConcurrentDecodes"] = "2",
            ["Pan:Avatars:DecodeWaitMilliseconds"] = "30000",
        });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var slots = node.Services.GetRequiredService<AvatarDecodeSlots>();
        var member = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, member);
        var other = await TestMembers.CreateAsync(Server);
        var third = await TestMembers.CreateAsync(Server);
        // Two sign-ins of the member and one of the other member of its phone.
        string[] tokens =
        [
            await TestMembers.AccessTokenAsync(Server, member),
            await TestMembers.AccessTokenAsync(Server, member),
            await TestMembers.AccessTokenAsync(Server, sibling),
        ];
        var otherToken = await TestMembers.AccessTokenAsync(Server, other);

        // An upload of the member's account is being decoded, and one of a third member's: every slot is taken.
        var held = await slots.EnterAsync(member.AccountId, default);
        try
        {
            using (await slots.EnterAsync(third.AccountId, default))
            {
                foreach (var token in tokens)
                {
                    var watch = System.Diagnostics.Stopwatch.StartNew();
                    await Errors.ExpectAsync(() => Upload(token), StatusCode.ResourceExhausted, "AVATAR_BUSY");
                    Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"refused after {watch.Elapsed}, not at once (the wait for a slot is 30 s)");
                }
            }

            // One slot is free: the account's further uploads do not get it; another member's upload does.
            foreach (var token in tokens)
            {
                await Errors.ExpectAsync(() => Upload(token), StatusCode.ResourceExhausted, "AVATAR_BUSY");
            }

            var url = (await Upload(otherToken)).Avatar;
            Assert.Equal(url, (await client.MeAsync(new MeRequest { AccessToken = otherToken })).User.Avatar);
            Assert.Equal(string.Empty, (await client.MeAsync(new MeRequest { AccessToken = tokens[0] })).User.Avatar);
        }
        finally
        {
            held.Dispose();
        }

        // Its decode over, the account uploads again.
        var mine = (await Upload(tokens[2])).Avatar;
        Assert.Equal(mine, (await client.MeAsync(new MeRequest { AccessToken = tokens[2] })).User.Avatar);

        Task<UpdateAvatarResponse> Upload(string token) => client.UpdateAvatarAsync(new UpdateAvatarRequest
        {
            AccessToken = token,
            Avatar = ByteString.CopyFrom(Picture(SKEncodedImageFormat.Png, 100, 100)),
        }).ResponseAsync;
    }

    /// <summary>
    /// Uploads waiting for a decode slot hold their pictures in the node's memory; one per account, but many accounts
    /// could make a node hold any amount. Past <c>Pan:Avatars:MaxWaitingBytes</c> of waiting pictures, a further upload
    /// that would have to wait is AVATAR_BUSY at once; the budget is given back when a waiting upload gets its slot.
    /// </summary>
    [Fact]
    public async Task PastTheNodesBudgetOfWaitingBytes_AnUploadThatWouldWaitIsBusyAtOnce()
    {
        var picture = Picture(SKEncodedImageFormat.Png, 100, 100);
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?>
        {
            ["Pan:Avatars:MaxConcurrentDecodes"] = "1",
            ["Pan:Avatars:DecodeWaitMilliseconds"] = "30000",
            ["Pan:Avatars:MaxWaitingBytes"] = (picture.Length * 3 / 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var slots = node.Services.GetRequiredService<AvatarDecodeSlots>();
        var first = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        var second = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));

        Task<UpdateAvatarResponse> waiting;
        var held = await slots.EnterAsync((await TestMembers.CreateAsync(Server)).AccountId, default);
        try
        {
            waiting = Upload(first);
            await Task.Delay(300);
            Assert.False(waiting.IsCompleted);

            var watch = System.Diagnostics.Stopwatch.StartNew();
            await Errors.ExpectAsync(() => Upload(second), StatusCode.ResourceExhausted, "AVATAR_BUSY");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"refused after {watch.Elapsed}, not at once (the wait for a slot is 30 s)");
            Assert.False(waiting.IsCompleted);
        }
        finally
        {
            held.Dispose();
        }

        Assert.Equal((await waiting).Avatar, (await client.MeAsync(new MeRequest { AccessToken = first })).User.Avatar);
        var url = (await Upload(second)).Avatar;
        Assert.Equal(url, (await client.MeAsync(new MeRequest { AccessToken = second })).User.Avatar);

        Task<UpdateAvatarResponse> Upload(string token) => client.UpdateAvatarAsync(new UpdateAvatarRequest
        {
            AccessToken = token,
            Avatar = ByteString.CopyFrom(picture),
        }).ResponseAsync;
    }

    /// <summary>
    /// A client that trickles an upload (here ~1 KB/s over HTTP/JSON, well above Kestrel's minimum body rate of 240 B/s,
    /// so a 5 MiB upload would hold its request for hours) is cut off once <c>Pan:Avatars:UploadSeconds</c> have passed
    /// since the request began, before it has sent its body.
    /// </summary>
    [Fact]
    public async Task AnUploadTrickledPastTheUploadDeadline_IsCutOff()
    {
        await using var node = await fixture.StartNodeAsync(new Dictionary<string, string?> { ["Pan:Avatars:UploadSeconds"] = "2" });
        var body = new TrickledBody("{\"accessToken\":\"x\",\"avatar\":\"" + new string('A', 12_000) + "\"}", chunk: 200, pause: TimeSpan.FromMilliseconds(200)).Typed();
        var watch = System.Diagnostics.Stopwatch.StartNew();

        try
        {
            using var response = await node.Http.PostAsync("/v2/member/update-avatar", body);
        }
        catch (HttpRequestException)
        {
            // Cut off: the connection was reset under the request.
        }

        Assert.False(body.SentAll, $"the whole trickled body was taken ({watch.Elapsed}); nothing cut the upload off");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(9), $"cut off only after {watch.Elapsed}");
    }

    /// <summary>A JSON body sent <paramref name="chunk"/> bytes at a time with a pause between them.</summary>
    private sealed class TrickledBody(string json, int chunk, TimeSpan pause) : HttpContent
    {
        private readonly byte[] bytes = System.Text.Encoding.UTF8.GetBytes(json);

        public volatile bool SentAll;

        public TrickledBody Typed()
        {
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            return this;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var at = 0; at < bytes.Length; at += chunk)
            {
                await stream.WriteAsync(bytes.AsMemory(at, Math.Min(chunk, bytes.Length - at)));
                await stream.FlushAsync();
                await Task.Delay(pause);
            }

            SentAll = true;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    [Theory]
    [InlineData("Pan:Avatars:MaxConcurrentDecodes", "0")]
    [InlineData("Pan:Avatars:DecodeWaitMilliseconds", "-1")]
    [InlineData("Pan:Avatars:OrphanGraceMinutes", "5")]
    [InlineData("Pan:Avatars:MaxWaitingBytes", "-1")]
    [InlineData("Pan:Avatars:UploadSeconds", "1")]
    public async Task ADecodeLimitOutsideItsRange_StopsTheServerStarting(string setting, string value)
    {
        var ex = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => fixture.StartNodeAsync(new Dictionary<string, string?> { [setting] = value }));
        Assert.Contains(setting, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadToken_IsUnauthenticated()
    {
        await Errors.ExpectAsync(() => UpdateAsync("nope", Picture(SKEncodedImageFormat.Png, 50, 50)), StatusCode.Unauthenticated, "TOKEN_INVALID");
    }

    /// <summary>
    /// As with the database store (AvatarTwoNodeBehaviour): in the avatar folder, files no member references are
    /// deleted by the janitor once older than the grace; referenced and young ones stay.
    /// </summary>
    [Fact]
    public async Task TheJanitor_DeletesFilesNoMemberReferences_OnceOlderThanTheGrace_AndKeepsReferencedAndYoungOnes()
    {
        var member = await TestMembers.CreateAsync(Server);
        var uploaded = KeyOf((await UpdateAsync(await TestMembers.AccessTokenAsync(Server, member), Picture(SKEncodedImageFormat.Png, 300, 300))).Avatar);
        var switched = await StoreAsync();
        await TestMembers.UpdateAsync(Server, (await TestMembers.CreateAsync(Server)).Uid, m => m.AvatarKey = switched);
        var orphan = await StoreAsync();
        Server.Clock.Advance(TimeSpan.FromMinutes(61));
        var young = await StoreAsync();

        await Server.Services.GetRequiredService<AvatarJanitor>().SweepOnceAsync(default);

        // Why eventually: the clock's advance also wakes the node's own hourly sweep, which may have taken a key first
        // and still be deleting its files when this sweep returns.
        await Eventually.HoldsAsync(() => Task.FromResult(!StoredFiles().Intersect(FilesOf(orphan)).Any()));
        var stored = StoredFiles();
        Assert.Superset(FilesOf(uploaded).Concat(FilesOf(switched)).Concat(FilesOf(young)).ToHashSet(), stored);
    }

    /// <summary>
    /// A pending marker that cannot be read (here a link that points at itself) is skipped by the janitor, which goes on
    /// with the other keys; and a marker a node took (renamed <c>{key}.{guid}.taken</c>) and was killed before it
    /// finished with is picked up by a later sweep once older than the grace: its files deleted when no member
    /// references the key (killed mid-delete), kept when one does (killed mid-claim).
    /// </summary>
    [Fact]
    public async Task TheJanitor_GoesOnPastAnUnreadableMarker_AndFinishesWhatAKilledNodeLeftTaken()
    {
        var pending = Path.Combine(fixture.AvatarFolder, "pending");
        var orphan = await StoreAsync();
        var unreadable = Path.Combine(pending, AvatarKeys.New());
        File.CreateSymbolicLink(unreadable, unreadable);
        var killedDeleting = await StoreAsync();
        File.Move(Path.Combine(pending, killedDeleting), Path.Combine(pending, $"{killedDeleting}.{Guid.NewGuid():N}.taken"));
        File.Delete(Path.Combine(fixture.AvatarFolder, AvatarKeys.FileName(killedDeleting, AvatarKeys.Sizes[0])));
        var killedClaiming = await StoreAsync();
        await TestMembers.UpdateAsync(Server, (await TestMembers.CreateAsync(Server)).Uid, m => m.AvatarKey = killedClaiming);
        File.Move(Path.Combine(pending, killedClaiming), Path.Combine(pending, $"{killedClaiming}.{Guid.NewGuid():N}.taken"));
        Server.Clock.Advance(TimeSpan.FromMinutes(61));
        try
        {
            await Server.Services.GetRequiredService<AvatarJanitor>().SweepOnceAsync(default);

            // Why eventually: the clock's advance also wakes the node's own hourly sweep, which may have taken a key
            // first and still be deleting its files when this sweep returns.
            await Eventually.HoldsAsync(() => Task.FromResult(
                !StoredFiles().Intersect(FilesOf(orphan).Concat(FilesOf(killedDeleting))).Any()
                && !Directory.EnumerateFiles(pending, "*.taken").Any()));
            var stored = StoredFiles();
            Assert.Superset(FilesOf(killedClaiming).ToHashSet(), stored);
            Assert.False(File.Exists(Path.Combine(pending, killedDeleting)));
            Assert.False(File.Exists(Path.Combine(pending, killedClaiming)));
        }
        finally
        {
            File.Delete(unreadable);
        }
    }

    /// <summary>Stores both sizes of a new key as an upload does before it switches the member; returns the key.</summary>
    private async Task<string> StoreAsync()
    {
        var key = AvatarKeys.New();
        var store = Server.Services.GetRequiredService<IAvatarStore>();
        foreach (var size in AvatarKeys.Sizes)
        {
            await store.SaveAsync(key, size, Picture(SKEncodedImageFormat.Png, size, size), default);
        }

        return key;
    }

    private Task<UpdateAvatarResponse> UpdateAsync(string token, byte[] image) =>
        Client.UpdateAvatarAsync(new UpdateAvatarRequest { AccessToken = token, Avatar = ByteString.CopyFrom(image) }).ResponseAsync;

    /// <summary>An upload retried while the account's decode on the node is taken by another of its uploads (AVATAR_BUSY).</summary>
    private async Task<UpdateAvatarResponse> UpdateWhenNotBusyAsync(string token, byte[] image)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await UpdateAsync(token, image);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && attempt < 200)
            {
                await Task.Delay(50);
            }
        }
    }

    private HashSet<string> StoredFiles() => Directory.EnumerateFiles(fixture.AvatarFolder).Select(Path.GetFileName).ToHashSet()!;

    private static IEnumerable<string> FilesOf(string? key) => key is null ? [] : AvatarKeys.Sizes.Select(size => AvatarKeys.FileName(key, size));

    private async Task<string?> CurrentKeyAsync(long uid)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Pan.Data.PanDbContext>().Members
            .Where(m => m.Uid == uid).Select(m => m.AvatarKey).SingleAsync();
    }

    private static string KeyOf(string url) => Path.GetFileName(new Uri(url).AbsolutePath)[..AvatarKeys.Length];

    /// <summary>
    /// A black RGB PNG written row by row (so the test never holds its pixels): a few kilobytes whatever its size.
    /// </summary>
    private static byte[] SolidPng(int width, int height)
    {
        using var idat = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + (width * 3)];
            for (var y = 0; y < height; y++)
            {
                zlib.Write(row);
            }
        }

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        (header[8], header[9]) = (8, 2);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();

        static void Chunk(Stream output, string type, byte[] data)
        {
            var length = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
            var crc = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
            output.Write(length);
            output.Write(typed);
            output.Write(crc);
        }

        static uint Crc32(byte[] bytes)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in bytes)
            {
                crc ^= b;
                for (var bit = 0; bit < 8; bit++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
                }
            }

            return ~crc;
        }
    }

    /// <summary>
    /// A JPEG carrying EXIF (orientation 6: shown turned a quarter clockwise, and a GPS block) with an HTML page after
    /// its end (a polyglot): what is stored is the picture turned upright, and none of the metadata or the page.
    /// </summary>
    [Fact]
    public async Task AJpegWithExifGpsAndATrailingPage_IsStoredUpright_WithoutTheMetadataOrThePage()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        const string Gps = "PANGPS-25.0330N-121.5654E";
        const string Page = "<html><script>alert('pan')</script></html>";
        byte[] jpeg;
        using (var bitmap = new SKBitmap(new SKImageInfo(400, 300, SKColorType.Rgba8888, SKAlphaType.Premul)))
        {
            // As stored: the top half green, the bottom half red. Shown per orientation 6, green is on the right.
            using (var canvas = new SKCanvas(bitmap))
            using (var green = new SKPaint { Color = new SKColor(0, 255, 0) })
            {
                canvas.Clear(new SKColor(255, 0, 0));
                canvas.DrawRect(SKRect.Create(0, 0, 400, 150), green);
            }

            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
            jpeg = data.ToArray();
        }

        var upload = new List<byte>(jpeg[..2]);
        upload.AddRange(ExifSegment(orientation: 6, Gps));
        upload.AddRange(jpeg[2..]);
        upload.AddRange(System.Text.Encoding.ASCII.GetBytes(Page));

        var key = KeyOf((await UpdateAsync(token, [.. upload])).Avatar);

        foreach (var size in AvatarKeys.Sizes)
        {
            var stored = await File.ReadAllBytesAsync(Path.Combine(fixture.AvatarFolder, $"{key}-{size}.png"));
            var text = System.Text.Encoding.Latin1.GetString(stored);
            foreach (var leftover in new[] { "PANGPS", "Exif", "eXIf", "tEXt", "iTXt", "zTXt", "<script", "html" })
            {
                Assert.DoesNotContain(leftover, text, StringComparison.Ordinal);
            }

            using var png = SKBitmap.Decode(stored);
            var (left, right) = (png.GetPixel(size / 5, size / 2), png.GetPixel(size * 4 / 5, size / 2));
            Assert.True(right.Green > 200 && right.Red < 60, $"{size}px: the right is {right}, expected green (turned upright)");
            Assert.True(left.Red > 200 && left.Green < 60, $"{size}px: the left is {left}, expected red");
        }
    }

    /// <summary>An APP1 EXIF segment (big-endian TIFF): IFD0 with the orientation and a GPS IFD holding <paramref name="gps"/> as GPSMapDatum.</summary>
    private static byte[] ExifSegment(ushort orientation, string gps)
    {
        var tiff = new List<byte> { 0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8 };
        void U16(int v) => tiff.AddRange([(byte)(v >> 8), (byte)v]);
        void U32(int v) => tiff.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        const int GpsIfd = 8 + 2 + (2 * 12) + 4;
        const int Text = GpsIfd + 2 + 12 + 4;
        U16(2);
        U16(0x0112); U16(3); U32(1); U16(orientation); U16(0);
        U16(0x8825); U16(4); U32(1); U32(GpsIfd);
        U32(0);
        U16(1);
        U16(0x0012); U16(2); U32(gps.Length + 1); U32(Text);
        U32(0);
        tiff.AddRange(System.Text.Encoding.ASCII.GetBytes(gps));
        tiff.Add(0);
        var payload = new List<byte>(System.Text.Encoding.ASCII.GetBytes("Exif\0\0"));
        payload.AddRange(tiff);
        var length = payload.Count + 2;
        return [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
    }

    /// <summary>A picture whose centred square is green and the rest red, with noise so every upload differs.</summary>
    private static byte[] Picture(SKEncodedImageFormat format, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        using (var green = new SKPaint { Color = new SKColor(0, 255, 0) })
        {
            canvas.Clear(new SKColor(255, 0, 0));
            var side = Math.Min(width, height);
            canvas.DrawRect(SKRect.Create((width - side) / 2f, (height - side) / 2f, side, side), green);
            bitmap.SetPixel(width / 2, height / 2, new SKColor(0, 255, (byte)Random.Shared.Next(256)));
        }

        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }
}

public sealed class AvatarBehaviour_Sqlite(SqliteExtrasFixture f) : AvatarBehaviour<SqliteExtrasFixture>(f);

public sealed class AvatarBehaviour_Postgres(PostgresExtrasFixture f) : AvatarBehaviour<PostgresExtrasFixture>(f);
