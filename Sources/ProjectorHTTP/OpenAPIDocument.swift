/// The read API's OpenAPI document, served at `GET /openapi.yaml`.
///
/// A copy of `docs/openapi.yaml`, which is the one to edit; `ReadAPITests` fails when they differ.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.0.3
info:
  title: Projector read API
  version: "1"
  description: |
    Read the views a Projector worker keeps, over HTTP, with read-your-writes.
    Served by `projector run --http`, `projector rebuild --http` and `projector serve --db`.
    Every answer about a view carries `Projector-Position` (the view's checkpoints and
    generation as an opaque token). Send a token back as `Projector-Min-Position` (from
    `projector produce`, `KafkaProducer.deliveredPosition`, or an earlier answer) to be answered
    only by a view that has read that far; add `Prefer: wait=N` to let the server wait up to N
    seconds for it. Tokens are opaque: pass them on unchanged.
servers:
  - url: http://127.0.0.1:9464
security:
  - {}
  - bearer: []
paths:
  /views:
    get:
      summary: The views, their columns and types, key, pipeline, generation and position.
      operationId: listViews
      responses:
        "200":
          description: Every live view.
          headers:
            Projector-Position: {$ref: "#/components/headers/Position"}
          content:
            application/json:
              schema:
                type: object
                required: [views]
                properties:
                  views:
                    type: array
                    items: {$ref: "#/components/schemas/View"}
        "401": {$ref: "#/components/responses/Error"}
  /views/{view}/rows/{key}:
    get:
      summary: One row by key (a composite key as k1,k2).
      operationId: getRow
      parameters:
        - {$ref: "#/components/parameters/View"}
        - name: key
          in: path
          required: true
          description: The key values in key-column order, separated by commas.
          schema: {type: string}
          example: o-1
        - {$ref: "#/components/parameters/MinPositionQuery"}
        - {$ref: "#/components/parameters/MinPosition"}
        - {$ref: "#/components/parameters/Prefer"}
        - {$ref: "#/components/parameters/IfNoneMatch"}
      responses:
        "200":
          description: The row, its columns typed as declared.
          headers:
            Projector-Position: {$ref: "#/components/headers/Position"}
            ETag: {$ref: "#/components/headers/ETag"}
            Preference-Applied: {$ref: "#/components/headers/PreferenceApplied"}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Row"}
        "304": {$ref: "#/components/responses/NotModified"}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "429": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Behind"}
  /views/{view}/rows:
    get:
      summary: A page of rows, filtered and ordered, with keyset pagination.
      description: |
        Every parameter not listed here is a filter `<column>=<operator>.<value>` on a declared
        column, with operators eq, ne, lt, le, gt, ge, in (comma-separated values), is (null or
        not_null) and like (text columns). Filters are ANDed. With `key.<column>` parameters the
        request reads one row by key, as `/views/{view}/rows/{key}` does.
      operationId: listRows
      parameters:
        - {$ref: "#/components/parameters/View"}
        - name: limit
          in: query
          description: Rows per page, from 1 to the server's maximum (1000 by default).
          schema: {type: integer, minimum: 1, maximum: 1000, default: 50}
        - name: order
          in: query
          description: "<column>, <column>.asc or <column>.desc; the key breaks ties, ascending."
          schema: {type: string}
        - name: after
          in: query
          description: The `next` cursor of the previous page, unchanged.
          schema: {type: string}
        - {$ref: "#/components/parameters/MinPositionQuery"}
        - {$ref: "#/components/parameters/MinPosition"}
        - {$ref: "#/components/parameters/Prefer"}
        - {$ref: "#/components/parameters/IfNoneMatch"}
      responses:
        "200":
          description: A page of rows and the cursor of the next one (null on the last page).
          headers:
            Projector-Position: {$ref: "#/components/headers/Position"}
            ETag: {$ref: "#/components/headers/ETag"}
            Preference-Applied: {$ref: "#/components/headers/PreferenceApplied"}
          content:
            application/json:
              schema:
                type: object
                required: [view, rows, next]
                properties:
                  view: {type: string}
                  rows:
                    type: array
                    items: {$ref: "#/components/schemas/Row"}
                  next: {type: string, nullable: true}
        "304": {$ref: "#/components/responses/NotModified"}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "429": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Behind"}
  /openapi.yaml:
    get:
      summary: This document.
      operationId: getOpenAPI
      security: []
      responses:
        "200":
          description: The OpenAPI document.
          content:
            application/yaml:
              schema: {type: object}
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
      description: Required when the server runs with --http-token-file.
  parameters:
    View:
      name: view
      in: path
      required: true
      schema: {type: string}
      example: order_summary
    MinPosition:
      name: Projector-Min-Position
      in: header
      description: >-
        Answer only from a view that has read up to this position token, on the partitions of the
        pipeline's topics the token names; a read of one row of a view keyed by the message key
        needs only the key's partition (by the producers' partitioner) when the server knows the
        pipeline (run, rebuild).
      schema: {type: string}
    MinPositionQuery:
      name: min_position
      in: query
      description: The same as the Projector-Min-Position header.
      schema: {type: string}
    Prefer:
      name: Prefer
      in: header
      description: "wait=<seconds>: wait up to that long for Projector-Min-Position (at most the server's limit, 30 by default)."
      schema: {type: string}
    IfNoneMatch:
      name: If-None-Match
      in: header
      description: An ETag of an earlier answer; 304 when the row (a read by key) or the view (a page) has not changed since.
      schema: {type: string}
  headers:
    Position:
      description: The view's position (checkpoints and generation) as an opaque token.
      schema: {type: string}
    ETag:
      description: >-
        A row read by key: the generation and a digest of the row's stored values, a strong
        validator that changes exactly when the row changes (no per-row offset is stored: that
        would add a write per row to every batch). A page or a 404: the generation and position of
        the view the answer was read from, which move with every commit.
      schema: {type: string}
    PreferenceApplied:
      description: wait=<seconds> when the wait preference was honoured.
      schema: {type: string}
  responses:
    NotModified:
      description: The row (or the view) has not changed since the ETag given in If-None-Match.
    Error:
      description: What is wrong and what to do.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Behind:
      description: The view has not reached Projector-Min-Position (at once, or within the wait).
      headers:
        Retry-After: {schema: {type: integer}}
        Projector-Position: {$ref: "#/components/headers/Position"}
        Projector-Min-Position: {schema: {type: string}}
      content:
        application/json:
          schema:
            type: object
            required: [error, code, position, min_position, behind]
            properties:
              error: {type: string}
              code: {type: string}
              position: {type: string}
              min_position: {type: string}
              behind: {type: array, items: {type: string}}
  schemas:
    View:
      type: object
      required: [name, pipeline, generation, columns, key, position]
      properties:
        name: {type: string}
        pipeline: {type: string}
        generation: {type: string}
        columns:
          type: array
          items:
            type: object
            required: [name, type]
            properties:
              name: {type: string}
              type: {type: string, enum: [text, integer, real, boolean, json]}
        key: {type: array, items: {type: string}}
        position: {type: string}
    Row:
      type: object
      description: The row's columns by name; integer and real as numbers, boolean as true/false, json as the JSON it holds.
      additionalProperties: true
    Error:
      type: object
      required: [error, code]
      properties:
        error: {type: string}
        code: {type: string}
"""#
}
