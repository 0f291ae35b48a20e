<?php
/**
 * The WooCommerce plugin: availability message, cart line, checkout record, order emails, translations.
 * Today is 2 March 2026 (Europe/Berlin) unless a test says otherwise.
 *
 * @package WooCommerce_Backorder_ETA
 */

use PHPUnit\Framework\TestCase;

final class BackorderEtaTest extends TestCase {

	/** @var Backorder_ETA */
	private $plugin;

	protected function setUp(): void {
		reset_wordpress();
		$this->plugin = Backorder_ETA::register( BACKORDER_ETA_PLUGIN_DIR . '/woocommerce-backorder-eta.php' );
	}

	/**
	 * A product with the connector's meta; stock 0 and backorders allowed unless $props says otherwise.
	 */
	private function product( array $meta, array $props = array(), $id = 101 ) {
		return new WC_Product( $id, 'simple', $props + array( 'stock_quantity' => 0, 'backorders' => 'notify' ), $meta );
	}

	private function single( $date = '2026-03-12' ) {
		return array( '_backorder_eta' => $date );
	}

	private function range( $earliest, $latest, $eta = null ) {
		$meta = array(
			'_backorder_eta_earliest' => $earliest,
			'_backorder_eta_latest'   => $latest,
		);
		return null === $eta ? $meta : $meta + array( '_backorder_eta' => $eta );
	}

	private function availability( WC_Product $product, $text = 'Available on backorder' ) {
		return apply_filters( 'woocommerce_get_availability_text', $text, $product );
	}

	private function email_line( WC_Order_Item $item, $plain_text = false ) {
		ob_start();
		do_email_hook( $item, $plain_text );
		return ob_get_clean();
	}

	public function test_the_plugin_file_registers_every_hook_with_its_arguments() {
		$expected = array(
			'init'                                        => 1,
			'before_woocommerce_init'                     => 1,
			'woocommerce_get_availability_text'           => 2,
			'woocommerce_get_item_data'                   => 2,
			'woocommerce_checkout_create_order_line_item' => 4,
			'woocommerce_order_item_meta_end'             => 4,
			'woocommerce_after_order_itemmeta'            => 3,
			'rest_api_init'                               => 1,
		);
		foreach ( array( WP_Test_State::$hooks_at_load, WP_Test_State::$hooks ) as $hooks ) {
			$this->assertSame( array_keys( $expected ), array_keys( $hooks ) );
			foreach ( $expected as $hook => $accepted_args ) {
				$this->assertCount( 1, $hooks[ $hook ], $hook );
				$this->assertSame( 10, $hooks[ $hook ][0]['priority'], $hook );
				$this->assertSame( $accepted_args, $hooks[ $hook ][0]['accepted_args'], $hook );
				$this->assertIsCallable( $hooks[ $hook ][0]['callback'], $hook );
			}
		}
	}

	public function test_translations_load_from_the_plugins_languages_folder() {
		$this->plugin->load_textdomain();
		$this->assertSame(
			array( array( 'woocommerce-backorder-eta', false, 'woocommerce-backorder-eta/languages' ) ),
			WP_Test_State::$textdomains
		);
	}

	public function test_availability_shows_one_date() {
		$this->assertSame( 'Available on backorder. Ships around 12 March', $this->availability( $this->product( $this->single() ) ) );
	}

	public function test_availability_shows_a_range() {
		$product = $this->product( $this->range( '2026-03-12', '2026-03-16', '2026-03-14' ) );
		$this->assertSame( 'Available on backorder. Expected between 12 and 16 March', $this->availability( $product ) );
	}

	public function test_availability_without_woocommerce_text_is_the_date_alone() {
		// Backorders "yes" (no customer notification): WooCommerce itself says nothing.
		$product = $this->product( $this->single(), array( 'backorders' => 'yes' ) );
		$this->assertSame( 'Ships around 12 March', $this->availability( $product, '' ) );
	}

	public function test_availability_is_untouched_when_nothing_is_backordered_or_known() {
		$this->assertSame( '5 in stock', $this->availability( $this->product( $this->single(), array( 'stock_quantity' => 5 ) ), '5 in stock' ) );
		$this->assertSame( 'Out of stock', $this->availability( $this->product( $this->single(), array( 'backorders' => 'no' ) ), 'Out of stock' ) );
		$this->assertSame( 'In stock', $this->availability( $this->product( $this->single(), array( 'manage_stock' => false ) ), 'In stock' ) );
		$this->assertSame( 'Available on backorder', $this->availability( $this->product( array() ) ) );
	}

	/**
	 * @dataProvider date_rules
	 */
	public function test_date_rules( array $meta, $expected ) {
		$this->assertSame( $expected, $this->plugin->storefront_message( $this->product( $meta ) ) );
	}

	public function date_rules() {
		return array(
			'stale: before today'           => array( $this->single( '2026-02-20' ), '' ),
			'today'                         => array( $this->single( '2026-03-02' ), 'Ships around 2 March' ),
			'a begun range starts today'    => array( $this->range( '2026-02-25', '2026-03-06' ), 'Expected between 2 and 6 March' ),
			'a range ending today'          => array( $this->range( '2026-02-25', '2026-03-02' ), 'Ships around 2 March' ),
			'a range of one day'            => array( $this->range( '2026-03-20', '2026-03-20' ), 'Ships around 20 March' ),
			'across months'                 => array( $this->range( '2026-03-30', '2026-04-02' ), 'Expected between 30 March and 2 April' ),
			'across years'                  => array( $this->range( '2026-12-28', '2027-01-03' ), 'Expected between 28 December 2026 and 3 January 2027' ),
			'next year'                     => array( $this->single( '2027-01-08' ), 'Ships around 8 January 2027' ),
			'a range next year'             => array( $this->range( '2027-03-01', '2027-03-05' ), 'Expected between 1 and 5 March 2027' ),
			'an inverted range is ignored'  => array( $this->range( '2026-03-25', '2026-03-22', '2026-03-20' ), 'Ships around 20 March' ),
			'half a range is ignored'       => array( array( '_backorder_eta_earliest' => '2026-03-25' ) + $this->single( '2026-03-20' ), 'Ships around 20 March' ),
			'half a range alone is nothing' => array( array( '_backorder_eta_latest' => '2026-03-25' ), '' ),
			'a date that does not exist'    => array( $this->single( '2026-02-30' ), '' ),
			'not a date'                    => array( $this->single( 'soon' ), '' ),
			'not a string'                  => array( $this->single( array( '2026-03-12' ) ), '' ),
		);
	}

	public function test_today_is_the_sites_day_not_utc() {
		// 23:30 UTC on 1 March is already 2 March in Berlin: 1 March is in the past there.
		WP_Test_State::$now = gmmktime( 23, 30, 0, 3, 1, 2026 );
		$this->assertSame( '', $this->plugin->storefront_message( $this->product( $this->single( '2026-03-01' ) ) ) );
		WP_Test_State::$timezone = 'America/New_York';
		$this->assertSame( 'Ships around 1 March', $this->plugin->storefront_message( $this->product( $this->single( '2026-03-01' ) ) ) );
	}

	public function test_german() {
		WP_Test_State::$locale = 'de_DE';
		$this->assertSame(
			'Lieferbar nach Nachbestellung. Versand voraussichtlich um den 12. März',
			$this->availability( $this->product( $this->single() ), 'Lieferbar nach Nachbestellung' )
		);
		$this->assertSame( 'Versand voraussichtlich zwischen dem 12. und 16. März', $this->plugin->storefront_message( $this->product( $this->range( '2026-03-12', '2026-03-16' ) ) ) );
		$this->assertSame( 'Versand voraussichtlich zwischen dem 30. März und 2. April', $this->plugin->storefront_message( $this->product( $this->range( '2026-03-30', '2026-04-02' ) ) ) );
		$this->assertSame( 'Versand voraussichtlich um den 8. Januar 2027', $this->plugin->storefront_message( $this->product( $this->single( '2027-01-08' ) ) ) );
	}

	public function test_merchant_text_is_used_in_the_site_language_only_and_escaped() {
		$product = $this->product( $this->single() + array( '_backorder_eta_text' => ' <b>Back</b> from Acme & Co around 12 March ' ) );
		$this->assertSame(
			'Available on backorder. &lt;b&gt;Back&lt;/b&gt; from Acme &amp; Co around 12 March',
			$this->availability( $product )
		);
		WP_Test_State::$locale = 'de_DE';  // a German visitor on an English site
		$this->assertSame( 'Versand voraussichtlich um den 12. März', $this->plugin->storefront_message( $product ) );
		WP_Test_State::$site_locale = 'de_DE';  // a German site
		$this->assertSame( '<b>Back</b> from Acme & Co around 12 March', $this->plugin->storefront_message( $product ) );
	}

	public function test_a_stale_date_hides_the_merchant_text_too() {
		$product = $this->product( $this->single( '2026-02-01' ) + array( '_backorder_eta_text' => 'Soon' ) );
		$this->assertSame( 'Available on backorder', $this->availability( $product ) );
		$this->assertSame( 'Available on backorder', $this->availability( $this->product( array( '_backorder_eta_text' => 'Soon' ) ) ) );
	}

	public function test_variations() {
		$parent = new WC_Product( 200, 'variable', array( 'stock_quantity' => 0, 'backorders' => 'notify' ), $this->single( '2026-03-20' ) );
		$own    = new WC_Product( 201, 'variation', array( 'parent_id' => 200, 'stock_quantity' => 0, 'backorders' => 'notify' ), $this->single() );
		$pooled = new WC_Product( 202, 'variation', array( 'parent_id' => 200, 'manage_stock' => 'parent' ) );
		$alone  = new WC_Product( 203, 'variation', array( 'parent_id' => 200, 'stock_quantity' => 0, 'backorders' => 'notify' ) );

		$this->assertSame( 'Available on backorder. Ships around 12 March', $this->availability( $own ) );
		// Stock managed by the parent: the parent holds the stock and the ETA.
		$this->assertSame( 'Available on backorder. Ships around 20 March', $this->availability( $pooled ) );
		// A variation with its own stock never borrows the parent's ETA.
		$this->assertSame( 'Available on backorder', $this->availability( $alone ) );
		$this->assertSame( 'Available on backorder. Ships around 20 March', $this->availability( $parent ) );
	}

	public function test_cart_line_of_a_backordered_quantity() {
		$product  = $this->product( $this->single(), array( 'stock_quantity' => 2 ) );
		$existing = array( array( 'key' => 'Colour', 'value' => 'Blue' ) );

		$data = apply_filters( 'woocommerce_get_item_data', $existing, array( 'data' => $product, 'quantity' => 3 ) );

		$this->assertSame(
			array(
				array( 'key' => 'Colour', 'value' => 'Blue' ),
				array( 'key' => 'Backorder', 'value' => 'Ships around 12 March', 'display' => 'Ships around 12 March' ),
			),
			$data
		);
		// Two units are in stock: a line of two ships from stock.
		$this->assertSame( $existing, apply_filters( 'woocommerce_get_item_data', $existing, array( 'data' => $product, 'quantity' => 2 ) ) );
		$this->assertSame( $existing, apply_filters( 'woocommerce_get_item_data', $existing, array( 'quantity' => 2 ) ) );
	}

	public function test_cart_line_escapes_and_translates() {
		WP_Test_State::$site_locale = 'de_DE';
		WP_Test_State::$locale      = 'de_DE';
		$product = $this->product( $this->single() + array( '_backorder_eta_text' => 'Ab <i>Lager</i> Mitte März' ) );
		$data    = apply_filters( 'woocommerce_get_item_data', array(), array( 'data' => $product, 'quantity' => 1 ) );
		$this->assertSame(
			array( array( 'key' => 'Lieferrückstand', 'value' => 'Ab &lt;i&gt;Lager&lt;/i&gt; Mitte März', 'display' => 'Ab &lt;i&gt;Lager&lt;/i&gt; Mitte März' ) ),
			$data
		);
	}

	public function test_checkout_keeps_the_dates_on_a_backordered_line() {
		$item    = new WC_Order_Item_Product();
		$product = $this->product( $this->range( '2026-03-12', '2026-03-16', '2026-03-14' ) + array( '_backorder_eta_text' => 'Mid March' ) );

		$this->plugin->record_order_item_eta( $item, 'cart-key', array( 'data' => $product, 'quantity' => 1 ), new WC_Order() );

		$this->assertSame(
			array(
				'_backorder_eta'          => array( '2026-03-14' ),
				'_backorder_eta_earliest' => array( '2026-03-12' ),
				'_backorder_eta_latest'   => array( '2026-03-16' ),
				'_backorder_eta_text'     => array( 'Mid March' ),
			),
			$item->meta
		);
	}

	public function test_checkout_keeps_nothing_for_lines_from_stock_or_without_a_current_date() {
		$cases = array(
			array( $this->product( $this->single(), array( 'stock_quantity' => 4 ) ), 4 ),
			array( $this->product( array() ), 1 ),
			array( $this->product( $this->single( '2026-02-01' ) ), 1 ),
		);
		foreach ( $cases as list( $product, $quantity ) ) {
			$item = new WC_Order_Item_Product();
			$this->plugin->record_order_item_eta( $item, 'cart-key', array( 'data' => $product, 'quantity' => $quantity ), new WC_Order() );
			$this->assertSame( array(), $item->meta );
		}
	}

	public function test_order_email_html_and_plain_text() {
		$item = new WC_Order_Item_Product();
		$item->add_meta_data( '_backorder_eta', '2026-03-12', true );

		$this->assertSame( '<div class="backorder-eta"><strong>Backorder:</strong> Ships around 12 March</div>', $this->email_line( $item ) );
		$this->assertSame( "\nBackorder: Ships around 12 March", $this->email_line( $item, true ) );
	}

	public function test_order_email_shows_the_date_given_even_once_it_has_passed() {
		$item = new WC_Order_Item_Product();
		$item->add_meta_data( '_backorder_eta', '2026-03-12', true );
		WP_Test_State::$now = gmmktime( 12, 0, 0, 4, 1, 2026 );
		$this->assertSame( "\nBackorder: Ships around 12 March", $this->email_line( $item, true ) );
	}

	public function test_order_email_prints_nothing_for_other_lines() {
		$this->assertSame( '', $this->email_line( new WC_Order_Item_Product() ) );
		$shipping = new WC_Order_Item_Shipping();
		$shipping->add_meta_data( '_backorder_eta', '2026-03-12', true );
		$this->assertSame( '', $this->email_line( $shipping ) );
	}

	public function test_order_email_escapes_html_and_strips_tags_in_plain_text() {
		$item = new WC_Order_Item_Product();
		$item->add_meta_data( '_backorder_eta', '2026-03-12', true );
		$item->add_meta_data( '_backorder_eta_text', '<script>alert(1)</script>Soon & <b>sure</b>', true );

		$this->assertSame(
			'<div class="backorder-eta"><strong>Backorder:</strong> &lt;script&gt;alert(1)&lt;/script&gt;Soon &amp; &lt;b&gt;sure&lt;/b&gt;</div>',
			$this->email_line( $item )
		);
		$this->assertSame( "\nBackorder: Soon & sure", $this->email_line( $item, true ) );
	}

	public function test_german_order_email() {
		WP_Test_State::$locale = 'de_DE';
		$item = new WC_Order_Item_Product();
		$item->add_meta_data( '_backorder_eta_earliest', '2026-03-12', true );
		$item->add_meta_data( '_backorder_eta_latest', '2026-03-16', true );
		$this->assertSame( "\nLieferrückstand: Versand voraussichtlich zwischen dem 12. und 16. März", $this->email_line( $item, true ) );
	}

	public function test_admin_order_screen_shows_the_date_given_at_checkout() {
		$item = new WC_Order_Item_Product();
		$item->add_meta_data( '_backorder_eta', '2026-03-12', true );
		ob_start();
		$this->plugin->print_admin_order_item_eta( 7, $item, null );
		$this->assertSame( '<div class="backorder-eta"><strong>ETA given at checkout:</strong> Ships around 12 March</div>', ob_get_clean() );
	}

	public function test_the_message_filter_can_change_the_sentence() {
		add_filter( 'backorder_eta_message', fn( $message, $eta, $product ) => $message . ' (' . $eta['eta'] . ', #' . $product->get_id() . ')', 10, 3 );
		$this->assertSame( 'Available on backorder. Ships around 12 March (2026-03-12, #101)', $this->availability( $this->product( $this->single() ) ) );
	}
}

/**
 * Fires woocommerce_order_item_meta_end the way WooCommerce's email templates do.
 */
function do_email_hook( WC_Order_Item $item, $plain_text ) {
	foreach ( WP_Test_State::$hooks['woocommerce_order_item_meta_end'] as $registered ) {
		call_user_func( $registered['callback'], 55, $item, new WC_Order(), $plain_text );
	}
}
