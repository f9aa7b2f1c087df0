-- Stuck or aged payables: purchase entries (the booked purchase invoices) joined to their
-- payment lines towards the supplier, not fully paid, bucketed by days past due.
SELECT
    pe."_division_id"                                   AS division,
    pe."entry_number"                                   AS entry_number,
    pe."supplier_name"                                  AS supplier,
    pe."your_ref"                                       AS supplier_invoice,
    pe."amount_dc"::NUMBER(18, 2)                       AS invoice_amount_dc,
    p."amount_dc"::NUMBER(18, 2)                        AS open_amount_dc,
    p."due_date"::DATE                                  AS due_date,
    DATEDIFF('day', p."due_date"::DATE, CURRENT_DATE()) AS days_past_due,
    CASE
        WHEN DATEDIFF('day', p."due_date"::DATE, CURRENT_DATE()) > 90 THEN '90+ days (stuck)'
        WHEN DATEDIFF('day', p."due_date"::DATE, CURRENT_DATE()) > 60 THEN '61-90 days'
        WHEN DATEDIFF('day', p."due_date"::DATE, CURRENT_DATE()) > 30 THEN '31-60 days'
        WHEN DATEDIFF('day', p."due_date"::DATE, CURRENT_DATE()) > 0 THEN '1-30 days'
        ELSE 'not yet due'
    END                                                 AS ageing_bucket
FROM "purchase_entries__current" AS pe
JOIN "payments__current" AS p
    ON p."_division_id" = pe."_division_id"
   AND p."entry_id" = pe."entry_id"
WHERE p."is_fully_paid" = FALSE
ORDER BY days_past_due DESC, division, entry_number;
