using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class SmsCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Why: built first and concurrently (outside the migration's transaction), so writes to the table go on
            // meanwhile; if the build fails, drop the index it names and start again (README "Storage").
            migrationBuilder.CreateIndex(
                name: "ix_sms_sends_created",
                table: "sms_sends",
                column: "created")
                .Annotation("Npgsql:CreatedConcurrently", true);

            migrationBuilder.DropIndex(
                name: "ix_sms_sends_country_created",
                table: "sms_sends");

            migrationBuilder.DropIndex(
                name: "ix_sms_sends_ip_created",
                table: "sms_sends");

            migrationBuilder.DropIndex(
                name: "ix_sms_sends_phone_created",
                table: "sms_sends");

            migrationBuilder.CreateTable(
                name: "sms_counts",
                columns: table => new
                {
                    counter = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    span = table.Column<int>(type: "integer", nullable: false),
                    bucket = table.Column<long>(type: "bigint", nullable: false),
                    sends = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sms_counts", x => new { x.counter, x.span, x.bucket });
                });

            // Why: the caps counted the send log until now; its sends that were not blocked (outcome 3) are counted into
            // the new buckets so that upgrading resets no cap. Buckets start at a multiple of their span, in Unix minutes.
            foreach (var (key, filter) in new[]
            {
                ("'p:' || upper(encode(phone_hash, 'hex'))", "1 = 1"),
                ("'i:' || ip", "ip IS NOT NULL"),
                ("'c:' || CAST(country_code AS text)", "1 = 1"),
            })
            {
                foreach (var (span, bucket) in new[] { (1, "created / 60000"), (60, "created / 3600000 * 60") })
                {
                    migrationBuilder.Sql($"""
                        INSERT INTO sms_counts (counter, span, bucket, sends)
                        SELECT {key}, {span}, {bucket}, COUNT(*) FROM sms_sends WHERE outcome <> 3 AND {filter}
                        GROUP BY 1, 3
                        """);
                }
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sms_counts");

            migrationBuilder.DropIndex(
                name: "ix_sms_sends_created",
                table: "sms_sends");

            migrationBuilder.CreateIndex(
                name: "ix_sms_sends_country_created",
                table: "sms_sends",
                columns: new[] { "country_code", "created", "outcome" });

            migrationBuilder.CreateIndex(
                name: "ix_sms_sends_ip_created",
                table: "sms_sends",
                columns: new[] { "ip", "created", "outcome" });

            migrationBuilder.CreateIndex(
                name: "ix_sms_sends_phone_created",
                table: "sms_sends",
                columns: new[] { "phone_hash", "created", "outcome" });
        }
    }
}
