-- All open sales invoices across every legal entity (NL, DE, UK, ...): invoices whose
-- receivable (Exact's payment term line) is not fully paid yet, oldest due date first.
-- Reads the __current views: the latest version of each record, deleted records left out.
-- Invoice and due dates are DATE columns holding Exact's own calendar dates.
SELECT
    si."_division_id"                              AS division,
    si."invoice_number"                            AS invoice_number,
    si."invoice_to_name"                           AS customer,
    si."currency"                                  AS currency,
    si."invoice_date"                              AS invoice_date,
    r."due_date"                                   AS due_date,
    si."amount_dc"::NUMBER(18, 2)                  AS invoice_amount_dc,
    r."amount_dc"::NUMBER(18, 2)                   AS open_amount_dc,
    DATEDIFF('day', r."due_date", CURRENT_DATE())  AS days_overdue
FROM "sales_invoices__current" AS si
JOIN "receivables__current" AS r
    ON r."_division_id" = si."_division_id"
   AND r."invoice_number" = si."invoice_number"
WHERE r."is_fully_paid" = FALSE
ORDER BY due_date, division, invoice_number;
