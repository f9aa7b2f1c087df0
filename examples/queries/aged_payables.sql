-- Stuck or aged payables: purchase entries (the booked purchase invoices) joined to their
-- payment terms towards the supplier that are still open, bucketed by days past due.
-- Exact's Payments status: 20 = open, 30 = selected for payment, 40 = processed, 50 = matched.
-- Due dates are DATE columns holding Exact's own calendar dates.
SELECT
    pe."_division_id"                                   AS division,
    pe."entry_number"                                   AS entry_number,
    pe."supplier_name"                                  AS supplier,
    pe."your_ref"                                       AS supplier_invoice,
    pe."amount_dc"::NUMBER(18, 2)                       AS invoice_amount_dc,
    p."amount_dc"::NUMBER(18, 2)                        AS open_amount_dc,
    p."due_date"                                        AS due_date,
    DATEDIFF('day', p."due_date", CURRENT_DATE())       AS days_past_due,
    CASE
        WHEN DATEDIFF('day', p."due_date", CURRENT_DATE()) > 90 THEN '90+ days (stuck)'
        WHEN DATEDIFF('day', p."due_date", CURRENT_DATE()) > 60 THEN '61-90 days'
        WHEN DATEDIFF('day', p."due_date", CURRENT_DATE()) > 30 THEN '31-60 days'
        WHEN DATEDIFF('day', p."due_date", CURRENT_DATE()) > 0 THEN '1-30 days'
        ELSE 'not yet due'
    END                                                 AS ageing_bucket
FROM "purchase_entries__current" AS pe
JOIN "payments__current" AS p
    ON p."_division_id" = pe."_division_id"
   AND p."entry_id" = pe."entry_id"
WHERE p."status" IN (20, 30)
ORDER BY days_past_due DESC, division, entry_number;
