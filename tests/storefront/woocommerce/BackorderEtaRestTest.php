<?php
/**
 * The plugin's REST route, wc-backorder-eta/v1/variations/batch: the connector's four meta keys on variations of
 * any parents, dispatched the way WordPress's REST server does. Today is 2 March 2026 (Europe/Berlin).
 *
 * @package WooCommerce_Backorder_ETA
 */

use PHPUnit\Framework\TestCase;

final class BackorderEtaRestTest extends TestCase {

	const ROUTE = '/wc-backorder-eta/v1/variations/batch';
	const KEYS  = array( '_backorder_eta', '_backorder_eta_earliest', '_backorder_eta_latest', '_backorder_eta_text' );

	/** @var Backorder_ETA */
	private $plugin;

	protected function setUp(): void {
		reset_wordpress();
		$this->plugin = Backorder_ETA::register( BACKORDER_ETA_PLUGIN_DIR . '/woocommerce-backorder-eta.php' );
		do_action( 'rest_api_init' );
		// Two variable products, backordered variations with stock of their own, and a simple product.
		new WC_Product( 200, 'variable' );
		new WC_Product( 300, 'variable' );
		$backordered = array( 'stock_quantity' => 0, 'backorders' => 'notify' );
		new WC_Product_Variation( 201, 200, $backordered, array( '_backorder_eta' => '2026-03-12' ) );
		new WC_Product_Variation( 202, 200, $backordered );
		new WC_Product_Variation( 301, 300, $backordered );
		new WC_Product( 101, 'simple', $backordered );
	}

	/**
	 * Sends a request to the route; $body is JSON-encoded unless it is a string already.
	 */
	private function send( $body, $method = 'POST' ) {
		$request = new WP_REST_Request( $method, self::ROUTE );
		$request->set_header( 'Content-Type', 'application/json' );
		$request->set_body( is_string( $body ) ? $body : json_encode( $body ) );
		return rest_do_request( $request );
	}

	/**
	 * An update of one variation: the given keys, or all four (a single date, no range, no text).
	 */
	private function item( $id, array $meta = array( '_backorder_eta' => '2027-01-18' ) ) {
		$meta_data = array();
		foreach ( $meta as $key => $value ) {
			$meta_data[] = array( 'key' => $key, 'value' => $value );
		}
		return array( 'id' => $id, 'meta_data' => $meta_data );
	}

	private function all_four( $eta, $earliest = '', $latest = '', $text = '' ) {
		return array_combine( self::KEYS, array( $eta, $earliest, $latest, $text ) );
	}

	/**
	 * The answer entry of a variation written: its id, parent and the four keys as stored.
	 */
	private function written( $id, $parent_id, array $stored ) {
		$meta_data = array();
		foreach ( self::KEYS as $key ) {
			$meta_data[] = array( 'key' => $key, 'value' => $stored[ $key ] ?? '' );
		}
		return array( 'id' => $id, 'parent_id' => $parent_id, 'meta_data' => $meta_data );
	}

	private function failed( $id, $code, $status, $message ) {
		return array( 'id' => $id, 'error' => array( 'code' => $code, 'message' => $message, 'data' => array( 'status' => $status ) ) );
	}

	private function assertRefused( WP_REST_Response $response, $status, $code ) {
		$this->assertSame( $status, $response->get_status() );
		$this->assertSame( $code, $response->get_data()['code'] );
		$this->assertSame( array( 'status' => $status ), $response->get_data()['data'] );
	}

	public function test_the_route_is_registered_on_rest_api_init_for_writes_only() {
		$this->assertSame( array( self::ROUTE ), array_keys( WP_Test_State::$routes ) );
		$route = WP_Test_State::$routes[ self::ROUTE ];
		// WooCommerce's API keys authenticate only wc/ and wc-* namespaces.
		$this->assertSame( 'wc-backorder-eta/v1', $route['namespace'] );
		$this->assertSame( '/variations/batch', $route['route'] );
		$this->assertSame( 'POST, PUT, PATCH', $route['args']['methods'] );
		$this->assertIsCallable( $route['args']['callback'] );
		$this->assertIsCallable( $route['args']['permission_callback'] );

		$this->assertSame( 200, $this->send( array( 'update' => array( $this->item( 202 ) ) ), 'PUT' )->get_status() );
		$this->assertRefused( $this->send( array( 'update' => array() ), 'GET' ), 404, 'rest_no_route' );
	}

	public function test_a_user_who_may_not_edit_products_is_refused_and_nothing_is_written() {
		WP_Test_State::$capabilities = array( 'read' );
		$response = $this->send( array( 'update' => array( $this->item( 202 ) ) ) );
		$this->assertRefused( $response, 403, 'backorder_eta_rest_cannot_edit' );
		$this->assertSame( 'Sorry, you are not allowed to edit products.', $response->get_data()['message'] );

		WP_Test_State::$user_id = 0;
		$this->assertRefused( $this->send( array( 'update' => array( $this->item( 202 ) ) ) ), 401, 'backorder_eta_rest_cannot_edit' );
		$this->assertSame( array(), WP_Test_State::$saves );
		$this->assertSame( '', wc_get_product( 202 )->get_meta( '_backorder_eta', true ) );
	}

	public function test_a_body_without_an_update_list_is_refused() {
		$bodies = array(
			'not JSON'         => '{"update": [',
			'no update'        => array( 'create' => array( $this->item( 202 ) ) ),
			'update not array' => array( 'update' => 'all' ),
			'update an object' => array( 'update' => array( 'first' => $this->item( 202 ) ) ),
			'a list, no object' => array( $this->item( 202 ) ),
		);
		foreach ( $bodies as $name => $body ) {
			$response = $this->send( $body );
			$this->assertSame( 400, $response->get_status(), $name );
			$this->assertSame( 'backorder_eta_rest_invalid_body', $response->get_data()['code'], $name );
		}
		$this->assertSame( array(), WP_Test_State::$saves );

		$empty = $this->send( array( 'update' => array() ) );
		$this->assertSame( array( 200, array( 'update' => array() ) ), array( $empty->get_status(), $empty->get_data() ) );
	}

	public function test_more_than_100_items_are_refused_whole() {
		for ( $id = 1000; $id < 1101; $id++ ) {
			new WC_Product_Variation( $id, 200 );
		}
		$items    = array_map( array( $this, 'item' ), range( 1000, 1100 ) );
		$response = $this->send( array( 'update' => $items ) );
		$this->assertRefused( $response, 413, 'backorder_eta_rest_too_many_items' );
		$this->assertSame( 'Unable to accept more than 100 items for this request.', $response->get_data()['message'] );
		$this->assertSame( array(), WP_Test_State::$saves );
		$this->assertSame( '', wc_get_product( 1000 )->get_meta( '_backorder_eta', true ) );

		$this->assertSame( 200, $this->send( array( 'update' => array_slice( $items, 0, 100 ) ) )->get_status() );
		$this->assertSame( range( 1000, 1099 ), WP_Test_State::$saves );
	}

	public function test_the_limit_follows_woocommerces_batch_limit_filter() {
		$seen = array();
		add_filter(
			'woocommerce_rest_batch_items_limit',
			function ( $limit, $base ) use ( &$seen ) {
				$seen[] = array( $limit, $base );
				return 2;
			},
			10,
			2
		);
		$response = $this->send( array( 'update' => array( $this->item( 201 ), $this->item( 202 ), $this->item( 301 ) ) ) );
		$this->assertRefused( $response, 413, 'backorder_eta_rest_too_many_items' );
		$this->assertSame( 'Unable to accept more than 2 items for this request.', $response->get_data()['message'] );
		$this->assertSame( array( array( 100, 'backorder-eta/variations' ) ), $seen );
		$this->assertSame( 200, $this->send( array( 'update' => array( $this->item( 201 ), $this->item( 202 ) ) ) )->get_status() );
	}

	public function test_variations_of_two_parents_are_written_in_one_request_in_order() {
		$response = $this->send(
			array(
				'update' => array(
					$this->item( 301, $this->all_four( '2027-01-18', '2027-01-14', '2027-01-20', 'Mid January' ) ),
					$this->item( 201, $this->all_four( '2026-04-02' ) ),
					$this->item( 202, array( '_backorder_eta_earliest' => '2026-03-30' ) ),
				),
			)
		);

		$this->assertSame( 200, $response->get_status() );
		$this->assertSame(
			array(
				'update' => array(
					$this->written( 301, 300, $this->all_four( '2027-01-18', '2027-01-14', '2027-01-20', 'Mid January' ) ),
					$this->written( 201, 200, $this->all_four( '2026-04-02' ) ),
					// Keys the item leaves out keep what they hold.
					$this->written( 202, 200, array( '_backorder_eta_earliest' => '2026-03-30' ) ),
				),
			),
			$response->get_data()
		);
		$this->assertSame( array( 301, 201, 202 ), WP_Test_State::$saves );
		$this->assertSame( array( '2027-01-20' ), wc_get_product( 301 )->meta['_backorder_eta_latest'] );
	}

	public function test_a_simple_product_or_an_unknown_id_fails_alone() {
		$response = $this->send(
			array(
				'update' => array(
					$this->item( 201 ),
					$this->item( 101 ),
					$this->item( 999 ),
					$this->item( '202' ),
					$this->item( -5 ),
					array( 'meta_data' => array() ),
					$this->item( 301 ),
				),
			)
		);

		$message = 'No product variation has this ID.';
		$this->assertSame(
			array(
				'update' => array(
					$this->written( 201, 200, array( '_backorder_eta' => '2027-01-18' ) ),
					$this->failed( 101, 'backorder_eta_rest_invalid_variation', 404, $message ),
					$this->failed( 999, 'backorder_eta_rest_invalid_variation', 404, $message ),
					$this->failed( '202', 'backorder_eta_rest_invalid_variation', 404, $message ),
					$this->failed( -5, 'backorder_eta_rest_invalid_variation', 404, $message ),
					$this->failed( null, 'backorder_eta_rest_invalid_variation', 404, $message ),
					$this->written( 301, 300, array( '_backorder_eta' => '2027-01-18' ) ),
				),
			),
			$response->get_data()
		);
		$this->assertSame( array( 201, 301 ), WP_Test_State::$saves );
		$this->assertSame( array(), wc_get_product( 101 )->meta );
		$this->assertSame( array(), wc_get_product( 202 )->meta );
	}

	public function test_an_unknown_meta_key_fails_the_item_and_writes_none_of_it() {
		$bad      = $this->item( 201, array( '_backorder_eta' => '2027-01-18', '_price' => '0.01' ) );
		$no_key   = array( 'id' => 202, 'meta_data' => array( array( 'value' => '2027-01-18' ) ) );
		$response = $this->send( array( 'update' => array( $bad, $no_key, $this->item( 301 ) ) ) );

		$message = 'Only these meta keys can be written here: _backorder_eta, _backorder_eta_earliest, _backorder_eta_latest, _backorder_eta_text.';
		$this->assertSame( $this->failed( 201, 'backorder_eta_rest_invalid_meta_key', 400, $message ), $response->get_data()['update'][0] );
		$this->assertSame( $this->failed( 202, 'backorder_eta_rest_invalid_meta_key', 400, $message ), $response->get_data()['update'][1] );
		$this->assertSame( array( '_backorder_eta' => array( '2026-03-12' ) ), wc_get_product( 201 )->meta );
		$this->assertSame( array(), wc_get_product( 202 )->meta );
		$this->assertSame( array( 301 ), WP_Test_State::$saves );
	}

	public function test_a_date_that_does_not_exist_fails_the_item_and_writes_none_of_it() {
		foreach ( array( '2027-02-30', '18.01.2027', '2027-1-18', '2027-01-18T00:00:00', 20270118, null ) as $value ) {
			$meta     = array( '_backorder_eta_text' => 'Soon', '_backorder_eta_latest' => $value );
			$response = $this->send( array( 'update' => array( $this->item( 201, $meta ) ) ) );
			$this->assertSame(
				$this->failed( 201, 'backorder_eta_rest_invalid_date', 400, 'The value of _backorder_eta_latest must be a date (YYYY-MM-DD) or empty.' ),
				$response->get_data()['update'][0],
				var_export( $value, true )
			);
		}
		$this->assertSame( array( '_backorder_eta' => array( '2026-03-12' ) ), wc_get_product( 201 )->meta );
		$this->assertSame( array(), WP_Test_State::$saves );
	}

	public function test_an_empty_value_is_stored_and_means_no_eta() {
		$variation = wc_get_product( 201 );
		$this->assertSame( 'Ships around 12 March', $this->plugin->storefront_message( $variation ) );

		$response = $this->send( array( 'update' => array( $this->item( 201, $this->all_four( '' ) ) ) ) );

		$this->assertSame( array( $this->written( 201, 200, array() ) ), $response->get_data()['update'] );
		$this->assertSame( array( '' ), $variation->meta['_backorder_eta'] );
		$this->assertSame( '', $this->plugin->storefront_message( $variation ) );
	}

	public function test_the_merchants_text_is_sanitized_and_must_be_a_string() {
		$text     = array( '_backorder_eta_text' => "  <b>Back</b> from\n Acme &  Co\t soon " );
		$response = $this->send( array( 'update' => array( $this->item( 201, $text ), $this->item( 202, array( '_backorder_eta_text' => 12 ) ) ) ) );

		$this->assertSame( $this->written( 201, 200, array( '_backorder_eta' => '2026-03-12', '_backorder_eta_text' => 'Back from Acme & Co soon' ) ), $response->get_data()['update'][0] );
		$this->assertSame(
			$this->failed( 202, 'backorder_eta_rest_invalid_meta_key', 400, 'The value of _backorder_eta_text must be a string.' ),
			$response->get_data()['update'][1]
		);
		$this->assertSame( array(), wc_get_product( 202 )->meta );
	}

	public function test_an_item_without_a_meta_data_list_fails_alone() {
		$response = $this->send(
			array(
				'update' => array(
					array( 'id' => 202, 'meta_data' => array( 'key' => '_backorder_eta', 'value' => '2027-01-18' ) ),
					array( 'id' => 201 ),
					$this->item( 301 ),
				),
			)
		);
		$failed = 'Each item needs a "meta_data" list of keys and values.';
		$this->assertSame(
			array(
				$this->failed( 202, 'backorder_eta_rest_invalid_meta_key', 400, $failed ),
				$this->failed( 201, 'backorder_eta_rest_invalid_meta_key', 400, $failed ),
				$this->written( 301, 300, array( '_backorder_eta' => '2027-01-18' ) ),
			),
			$response->get_data()['update']
		);
		$this->assertSame( array(), wc_get_product( 202 )->meta );
		$this->assertSame( array( 301 ), WP_Test_State::$saves );
	}

	public function test_a_variation_the_user_may_not_edit_fails_alone() {
		WP_Test_State::$uneditable_posts = array( 201 );
		$response = $this->send( array( 'update' => array( $this->item( 201 ), $this->item( 202 ) ) ) );
		$this->assertSame(
			array(
				$this->failed( 201, 'backorder_eta_rest_cannot_edit', 403, 'Sorry, you are not allowed to edit this variation.' ),
				$this->written( 202, 200, array( '_backorder_eta' => '2027-01-18' ) ),
			),
			$response->get_data()['update']
		);
		$this->assertSame( array( '2026-03-12' ), wc_get_product( 201 )->meta['_backorder_eta'] );
		$this->assertSame( array( 202 ), WP_Test_State::$saves );
	}

	public function test_errors_are_in_the_users_language() {
		WP_Test_State::$locale = 'de_DE';
		$response = $this->send( array( 'update' => array( $this->item( 999 ), $this->item( 201, array( '_backorder_eta' => '2027-13-01' ) ) ) ) );
		$this->assertSame( 'Es gibt keine Produktvariante mit dieser ID.', $response->get_data()['update'][0]['error']['message'] );
		$this->assertSame(
			'Der Wert von _backorder_eta muss ein Datum (JJJJ-MM-TT) oder leer sein.',
			$response->get_data()['update'][1]['error']['message']
		);
	}

	public function test_the_storefront_shows_what_the_route_wrote() {
		$variation = wc_get_product( 202 );
		$this->assertSame( 'Available on backorder', apply_filters( 'woocommerce_get_availability_text', 'Available on backorder', $variation ) );

		$this->send( array( 'update' => array( $this->item( 202, $this->all_four( '2026-03-20' ) ) ) ) );
		$this->assertSame( 'Available on backorder. Ships around 20 March', apply_filters( 'woocommerce_get_availability_text', 'Available on backorder', $variation ) );

		$this->send( array( 'update' => array( $this->item( 202, $this->all_four( '2026-03-20', '2026-03-18', '2026-03-24' ) ) ) ) );
		$this->assertSame( 'Expected between 18 and 24 March', $this->plugin->storefront_message( $variation ) );
	}
}
