using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AppEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "app_event_outbox",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    app_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    event_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    delivery_attempt_id = table.Column<long>(type: "bigint", nullable: true),
                    payload = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    state = table.Column<int>(type: "integer", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    next_attempt = table.Column<long>(type: "bigint", nullable: false),
                    claimed_until = table.Column<long>(type: "bigint", nullable: true),
                    finished = table.Column<long>(type: "bigint", nullable: true),
                    last_error = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_app_event_outbox", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "app_event_subscriptions",
                columns: table => new
                {
                    app_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    secret = table.Column<byte[]>(type: "bytea", maxLength: 256, nullable: false),
                    secret_version = table.Column<int>(type: "integer", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    modified = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_app_event_subscriptions", x => x.app_id);
                    table.ForeignKey(
                        name: "FK_app_event_subscriptions_apps_app_id",
                        column: x => x.app_id,
                        principalTable: "apps",
                        principalColumn: "app_id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_app_event_outbox_app_id_state",
                table: "app_event_outbox",
                columns: new[] { "app_id", "state" });

            migrationBuilder.CreateIndex(
                name: "ix_app_event_outbox_event_id",
                table: "app_event_outbox",
                column: "event_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_app_event_outbox_expires",
                table: "app_event_outbox",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ix_app_event_outbox_state_next_attempt",
                table: "app_event_outbox",
                columns: new[] { "state", "next_attempt" });

            migrationBuilder.CreateIndex(
                name: "ix_app_event_outbox_uid_kind",
                table: "app_event_outbox",
                columns: new[] { "uid", "kind" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "app_event_outbox");

            migrationBuilder.DropTable(
                name: "app_event_subscriptions");
        }
    }
}
